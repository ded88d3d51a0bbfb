    ret #1
