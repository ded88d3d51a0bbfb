        ld [16]                         ; socket.family
        jne #2, L3
        ret #1
L3:     ret #0
