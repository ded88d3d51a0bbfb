        ld [32]                         ; open.resolve (low half)
        and #0x10
        jeq #0, L4
        ret #0
L4:     ret #1
