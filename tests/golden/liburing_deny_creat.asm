        ld [16]                         ; open.flags (low half)
        and #0x40
        jeq #0, L4
        ret #0
L4:     ret #1
