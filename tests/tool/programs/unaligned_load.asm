        ld [18]                 ; not a multiple of 4
        ret a
