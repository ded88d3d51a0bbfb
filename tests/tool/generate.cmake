cmake_policy(VERSION 3.21)
# Writes the tool tests' very large inputs into OUT_DIR at test time (too large
# to commit): cmake -DOUT_DIR=dir -P generate.cmake
#   parens.policy    a condition in 50,000 parentheses (the parser bounds nesting)
#   nots.policy      a condition under 100,000 nots
#   comments.policy  8 MB of comments between 146 rules: rule i is on line
#                    1 + (i + 1) * 1001, so the last one, on line 146147, decides
#                    socket.protocol == 145 (names lines in time linear in the file)
#   set_contiguous.policy  socket.protocol in 5,000 consecutive values (one range test)
#   set_mode.policy        open.mode (64 bits) in 4,000 consecutive values
#   set_sparse.policy      socket.protocol in 4,000 values two apart: truly more than
#                          4096 instructions
#   set_members.policy     8,193 set members: one more than the parser holds
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

# Sets: the numbers first..last (step) as "a, b, c".
function(_number_list out first last step)
    set(list "${first}")
    math(EXPR from "${first} + ${step}")
    if(from LESS_EQUAL last)
        foreach(v RANGE ${from} ${last} ${step})
            string(APPEND list ", ${v}")
        endforeach()
    endif()
    set(${out} "${list}" PARENT_SCOPE)
endfunction()
_number_list(contiguous 0 4999 1)
file(WRITE ${OUT_DIR}/set_contiguous.policy "default deny\nallow SOCKET if socket.protocol in {${contiguous}}\n")
_number_list(modes 0 3999 1)
file(WRITE ${OUT_DIR}/set_mode.policy "default deny\nallow OPENAT if open.mode in {${modes}}\n")
_number_list(sparse 0 7998 2)
file(WRITE ${OUT_DIR}/set_sparse.policy "default deny\nallow SOCKET if socket.protocol in {${sparse}}\n")
_number_list(members 0 8192 1)
file(WRITE ${OUT_DIR}/set_members.policy "default deny\nallow SOCKET if socket.protocol in {${members}}\n")
