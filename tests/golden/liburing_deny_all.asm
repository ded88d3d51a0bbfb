    ret #0
