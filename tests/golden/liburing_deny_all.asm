        ret #0
