        ldb [16]                ; classic BPF has it; io_uring allows only 32-bit loads
        ret a
