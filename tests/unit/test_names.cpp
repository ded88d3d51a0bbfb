// policy/names.hpp, the one list of the names a policy may write for a value:
// every entry against the C library's (or the kernel's) macro of that name,
// every name once, and each reader taking the tables it should.
#include "catch.hpp"

#include "ringfence/policy/names.hpp"
#include "ringfence/policy/oci.hpp"
#include "ringfence/policy/text.hpp"

#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace rf_test {
namespace {
namespace rf = ringfence;

std::uint64_t value_in(std::span<const rf::named_constant> table, std::string_view name) {
    const auto v = rf::constant_value(table, name);
    INFO(name);
    REQUIRE(v);
    return *v;
}

#define RF_NAME(table, name) CHECK(value_in(rf::table, #name) == static_cast<std::uint64_t>(name));

TEST_CASE("names: address families are <sys/socket.h>'s") {
#define RF_FAMILY(name) CHECK(value_in(rf::socket_family_names, #name) == static_cast<std::uint64_t>(name));
    RF_FAMILY(AF_UNSPEC) RF_FAMILY(AF_UNIX) RF_FAMILY(AF_LOCAL) RF_FAMILY(AF_FILE) RF_FAMILY(AF_INET)
    RF_FAMILY(AF_AX25) RF_FAMILY(AF_IPX) RF_FAMILY(AF_APPLETALK) RF_FAMILY(AF_NETROM) RF_FAMILY(AF_BRIDGE)
    RF_FAMILY(AF_ATMPVC) RF_FAMILY(AF_X25) RF_FAMILY(AF_INET6) RF_FAMILY(AF_ROSE) RF_FAMILY(AF_DECnet)
    RF_FAMILY(AF_NETBEUI) RF_FAMILY(AF_SECURITY) RF_FAMILY(AF_KEY) RF_FAMILY(AF_NETLINK) RF_FAMILY(AF_ROUTE)
    RF_FAMILY(AF_PACKET) RF_FAMILY(AF_ASH) RF_FAMILY(AF_ECONET) RF_FAMILY(AF_ATMSVC) RF_FAMILY(AF_RDS)
    RF_FAMILY(AF_SNA) RF_FAMILY(AF_IRDA) RF_FAMILY(AF_PPPOX) RF_FAMILY(AF_WANPIPE) RF_FAMILY(AF_LLC)
    RF_FAMILY(AF_IB) RF_FAMILY(AF_MPLS) RF_FAMILY(AF_CAN) RF_FAMILY(AF_TIPC) RF_FAMILY(AF_BLUETOOTH)
    RF_FAMILY(AF_IUCV) RF_FAMILY(AF_RXRPC) RF_FAMILY(AF_ISDN) RF_FAMILY(AF_PHONET) RF_FAMILY(AF_IEEE802154)
    RF_FAMILY(AF_CAIF) RF_FAMILY(AF_ALG) RF_FAMILY(AF_NFC) RF_FAMILY(AF_VSOCK) RF_FAMILY(AF_KCM)
    RF_FAMILY(AF_QIPCRTR) RF_FAMILY(AF_SMC)
#ifdef AF_XDP
    RF_FAMILY(AF_XDP)
#endif
#ifdef AF_MCTP
    RF_FAMILY(AF_MCTP)
#endif
#undef RF_FAMILY
    // Every AF_* but AF_MAX, which is no family; names are exact.
    CHECK(std::size(rf::socket_family_names) == 49);
    CHECK_FALSE(rf::constant_value(rf::socket_family_names, "AF_MAX"));
    CHECK_FALSE(rf::constant_value(rf::socket_family_names, "af_inet"));
    CHECK_FALSE(rf::constant_value(rf::socket_family_names, "PF_INET"));
}

TEST_CASE("names: socket types and protocols are <sys/socket.h>'s and <netinet/in.h>'s") {
    RF_NAME(socket_type_names, SOCK_STREAM) RF_NAME(socket_type_names, SOCK_DGRAM)
    RF_NAME(socket_type_names, SOCK_RAW) RF_NAME(socket_type_names, SOCK_SEQPACKET)
    RF_NAME(socket_type_names, SOCK_NONBLOCK) RF_NAME(socket_type_names, SOCK_CLOEXEC)
    // The kernel's mask of the kind (include/linux/net.h); no C library header has it.
    CHECK(value_in(rf::socket_type_names, "SOCK_TYPE_MASK") == 0xf);
    CHECK(std::size(rf::socket_type_names) == 7);

    RF_NAME(ip_protocol_names, IPPROTO_IP) RF_NAME(ip_protocol_names, IPPROTO_ICMP)
    RF_NAME(ip_protocol_names, IPPROTO_TCP) RF_NAME(ip_protocol_names, IPPROTO_UDP)
    RF_NAME(ip_protocol_names, IPPROTO_ICMPV6) RF_NAME(ip_protocol_names, IPPROTO_SCTP)
#ifdef IPPROTO_MPTCP
    RF_NAME(ip_protocol_names, IPPROTO_MPTCP)
#endif
    CHECK(std::size(rf::ip_protocol_names) == 7);
}

TEST_CASE("names: open flags are <fcntl.h>'s on x86-64, resolve flags <linux/openat2.h>'s") {
#if defined(__x86_64__)
    RF_NAME(open_flag_names, O_RDONLY) RF_NAME(open_flag_names, O_WRONLY) RF_NAME(open_flag_names, O_RDWR)
    RF_NAME(open_flag_names, O_ACCMODE) RF_NAME(open_flag_names, O_CREAT) RF_NAME(open_flag_names, O_EXCL)
    RF_NAME(open_flag_names, O_NOCTTY) RF_NAME(open_flag_names, O_TRUNC) RF_NAME(open_flag_names, O_APPEND)
    RF_NAME(open_flag_names, O_NONBLOCK) RF_NAME(open_flag_names, O_DSYNC) RF_NAME(open_flag_names, O_DIRECT)
    RF_NAME(open_flag_names, O_DIRECTORY) RF_NAME(open_flag_names, O_NOFOLLOW)
    RF_NAME(open_flag_names, O_NOATIME) RF_NAME(open_flag_names, O_CLOEXEC) RF_NAME(open_flag_names, O_SYNC)
    RF_NAME(open_flag_names, O_PATH) RF_NAME(open_flag_names, O_TMPFILE)
    // Two where the C library differs from the kernel's asm-generic/fcntl.h, and
    // a filter sees the kernel's bits: glibc's O_LARGEFILE is 0 on x86-64 (off_t
    // is 64-bit there), and its __O_TMPFILE includes O_DIRECTORY (0x410000), the
    // kernel's is the one bit (0x400000).
    CHECK(value_in(rf::open_flag_names, "O_LARGEFILE") == 0x8000);
    CHECK(value_in(rf::open_flag_names, "__O_TMPFILE") == 0x400000);
    CHECK(value_in(rf::open_flag_names, "O_TMPFILE") == (0x400000 | static_cast<std::uint64_t>(O_DIRECTORY)));
#endif
    CHECK(std::size(rf::open_flag_names) == 21);

    RF_NAME(resolve_flag_names, RESOLVE_NO_XDEV) RF_NAME(resolve_flag_names, RESOLVE_NO_MAGICLINKS)
    RF_NAME(resolve_flag_names, RESOLVE_NO_SYMLINKS) RF_NAME(resolve_flag_names, RESOLVE_BENEATH)
    RF_NAME(resolve_flag_names, RESOLVE_IN_ROOT)
#ifdef RESOLVE_CACHED
    RF_NAME(resolve_flag_names, RESOLVE_CACHED)
#endif
    CHECK(std::size(rf::resolve_flag_names) == 6);
}

TEST_CASE("names: SQE flags are <linux/io_uring.h>'s") {
    RF_NAME(sqe_flag_names, IOSQE_FIXED_FILE) RF_NAME(sqe_flag_names, IOSQE_IO_DRAIN)
    RF_NAME(sqe_flag_names, IOSQE_IO_LINK) RF_NAME(sqe_flag_names, IOSQE_IO_HARDLINK)
    RF_NAME(sqe_flag_names, IOSQE_ASYNC) RF_NAME(sqe_flag_names, IOSQE_BUFFER_SELECT)
#ifdef IOSQE_CQE_SKIP_SUCCESS
    RF_NAME(sqe_flag_names, IOSQE_CQE_SKIP_SUCCESS)
#endif
    CHECK(std::size(rf::sqe_flag_names) == 7);
}
#undef RF_NAME

TEST_CASE("names: every name is in one table once, and the readers take the tables they should") {
    std::set<std::string_view> seen;
    std::size_t total = 0;
    for (std::span<const rf::named_constant> table : rf::constant_tables)
        for (const rf::named_constant& c : table) {
            INFO(c.name);
            CHECK(seen.insert(c.name).second);
            CHECK(rf::constant_value(c.name) == c.value);
            // The policy text takes every name of every table.
            CHECK(rf::text_constant_value(c.name) == c.value);
            ++total;
        }
    CHECK(total == 49 + 7 + 7 + 21 + 6 + 7);
    CHECK_FALSE(rf::constant_value("AF_MAX"));
    CHECK_FALSE(rf::text_constant_value("o_creat"));

    // The OCI object takes socketFamilies from the families only, deniedSqeFlags from the flags only.
    const auto oci = [](std::string_view families, std::string_view flags) {
        return rf::parse_oci_policy(std::string(R"({"defaultAction": "deny", "ops": ["IORING_OP_SOCKET"], )") +
                                    R"("socketFamilies": [)" + std::string(families) + R"(], "deniedSqeFlags": [)" +
                                    std::string(flags) + "]}");
    };
    CHECK(oci(R"("AF_CAN", "AF_ROUTE")", R"("IOSQE_ASYNC")").ok());
    CHECK_FALSE(oci(R"("SOCK_STREAM")", "").ok());
    CHECK_FALSE(oci("", R"("AF_INET")").ok());
    CHECK_FALSE(oci("", R"("O_CREAT")").ok());
}

} // namespace
} // namespace rf_test
