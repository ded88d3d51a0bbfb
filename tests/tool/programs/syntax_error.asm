        ld [16]
        jeq #2, allow
        lod #1
allow:  ret #1
