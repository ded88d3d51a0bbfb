        ret #1
