; liburing's test/cbpf_filter.c filter: IORING_OP_SOCKET only for AF_INET.
        ld [16]                 ; socket.family
        jeq #2, allow, deny     ; AF_INET
allow:  ret #1
deny:   ret #0
