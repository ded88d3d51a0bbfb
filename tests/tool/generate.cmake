cmake_policy(VERSION 3.21)
# Writes the tool tests' very large inputs into OUT_DIR at test time (too large
# to commit): cmake -DOUT_DIR=dir -P generate.cmake
#   parens.policy    a condition in 50,000 parentheses (the parser bounds nesting)
#   nots.policy      a condition under 100,000 nots
#   comments.policy  8 MB of comments between 146 rules: rule i is on line
#                    1 + (i + 1) * 1001, so the last one, on line 146147, decides
#                    socket.protocol == 145 (names lines in time linear in the file)
file(MAKE_DIRECTORY ${OUT_DIR})

string(REPEAT "(" 50000 open)
string(REPEAT ")" 50000 close)
file(WRITE ${OUT_DIR}/parens.policy "default allow\ndeny SOCKET if ${open}socket.family == 1${close}\n")

string(REPEAT "not " 100000 nots)
file(WRITE ${OUT_DIR}/nots.policy "default allow\ndeny SOCKET if ${nots}socket.family == 1\n")

string(REPEAT "# a comment line that the parser must skip, 56 bytes ##\n" 1000 block)
file(WRITE ${OUT_DIR}/comments.policy "default allow\n")
foreach(i RANGE 145)
    file(APPEND ${OUT_DIR}/comments.policy "${block}deny SOCKET if socket.protocol == ${i}\n")
endforeach()
