; M[5] is read, but no path stores it first: the kernel's check_load_and_stores() refuses.
        ld #1
        ld #2
        ld #3
        ld M[5]
        ret a
