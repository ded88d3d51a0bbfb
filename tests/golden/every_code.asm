        ld [0]                          ; user_data (low half)
        ldh [12]                        ; not allowed in io_uring filters
        ldb [23]                        ; not allowed in io_uring filters
        ld [x + 4]                      ; not allowed in io_uring filters
        ldh [x + 2]                     ; not allowed in io_uring filters
        ldb [x + 2]                     ; not allowed in io_uring filters
        ld #len                         ; context length (40)
        ldx #len                        ; context length (40)
        ld #7
        ldx #65536
        st M[0]
        stx M[1]
        ld M[0]
        ldx M[1]
        ldxb 4*([14]&0xf)               ; not allowed in io_uring filters
        tax
        txa
        add #1
        add x
        sub #2
        sub x
        mul #3
        mul x
        div #4
        div x
        mod #3                          ; not allowed in io_uring filters
        mod x                           ; not allowed in io_uring filters
        and #0xff
        and x
        or #0x100
        or x
        xor #0xffffffff
        xor x
        lsh #24
        lsh x
        rsh #8
        rsh x
        neg
        ja L40
        jne #45, L41
L40:    jeq x, L42
L41:    jgt #10, L43, L44
L42:    jgt x, L43
L43:    jlt #2147483648, L45
L44:    jge x, L47, L46
L45:    jset #0x8, L46, L47
L46:    jset x, L48
L47:    .insn 0x0e, 0, 0, 0x0           ; unknown instruction code
L48:    .insn 0xc7, 0, 0, 0x12          ; unknown instruction code
        .insn 0x06, 1, 0, 0x5
        ld [4294963200]                 ; io_uring rejects this: load offset is beyond the 40-byte context
        ld [41]                         ; io_uring rejects this: load offset is beyond the 40-byte context
        ld [18]                         ; io_uring rejects this: load offset is not a multiple of 4
        .insn 0x15, 9, 0, 0x1
        ret a
        ret #0
