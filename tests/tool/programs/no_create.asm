; IORING_OP_OPENAT: deny O_CREAT and O_TMPFILE (low half of open.flags).
        ld [16]
        jset #0x410040, deny
        ret #1
deny:   ret #0
