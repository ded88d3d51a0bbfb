        ld [20]                         ; socket.type
        and #0xf
        jne #1, L4
        ret #1
L4:     ret #0
