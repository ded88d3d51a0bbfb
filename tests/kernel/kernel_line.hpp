// The kernel a guest program runs on: its profile as ringfence::probe()
// measures it, and the preset of the line qemu-run.sh booted.
//
//   const auto k = ringfence::test::kernel_under_test::measure();   // prints what it found
//   if (!k.ok) failed++;                   // incomplete, or not the booted line's preset
//   rf::task t({.kernel = k.profile()});   // the model, as this kernel
//   for (const rf::kernel_profile* p : k.other_presets()) ...      // must disagree somewhere
//
// scripts/kernel/qemu-run.sh puts `ringfence.kernel-line=<line>` on the guest's
// kernel command line when it boots a line's fetched image; with
// RINGFENCE_KERNEL=<vmlinuz> (any other image) or natively there is no line,
// and the measured profile is used as it is.
#pragma once

#include "guest.hpp"

#include <ringfence/kernel_profile.hpp>
#include <ringfence/probe.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ringfence::test {

struct kernel_under_test {
    kernel_support support;
    std::string line;                       // ringfence.kernel-line, or empty
    const kernel_profile* expected = nullptr; // the line's preset, when a line was named
    bool ok = false;                        // measured completely and, when a line was named, equal to its preset

    const kernel_profile& profile() const noexcept { return support.profile; }

    // The presets that are not this kernel's behaviour.
    std::vector<const kernel_profile*> other_presets() const {
        std::vector<const kernel_profile*> out;
        for (const kernel_profile* p : profiles::all)
            if (!(*p == profile())) out.push_back(p);
        return out;
    }

    // Probes the kernel and prints the result as `kernel-profile:` lines, then
    // one PASS or FAIL line named `kernel.profile`.
    static kernel_under_test measure() {
        kernel_under_test k;
        k.support = probe();
        if (guest::is_pid1())
            for (const auto& [key, value] : guest::cmdline_settings())
                if (key == "kernel-line") k.line = value;
        std::string d = k.support.profile.describe();
        for (std::size_t pos = 0; pos < d.size();) {
            const std::size_t end = d.find('\n', pos);
            std::printf("kernel-profile: %s\n", d.substr(pos, end - pos).c_str());
            pos = end == std::string::npos ? d.size() : end + 1;
        }
        std::printf("kernel-profile: matches preset %s\n", k.support.profile.name);
        bool ok = k.support.profile_complete();
        if (!ok) std::printf("kernel-profile: %s\n", k.support.message().c_str());
        if (!k.line.empty()) {
            k.expected = profiles::find(k.line);
            if (!k.expected) {
                std::printf("kernel-profile: no preset for the booted line %s\n", k.line.c_str());
                ok = false;
            } else if (!(*k.expected == k.support.profile)) {
                std::printf("kernel-profile: the booted line %s should behave as preset %s; measured differs:\n%s",
                            k.line.c_str(), k.expected->name, differences(k.support.profile, *k.expected).c_str());
                ok = false;
            }
        }
        k.ok = ok;
        std::printf("%s kernel.profile\n", ok ? "PASS" : "FAIL");
        return k;
    }
};

} // namespace ringfence::test
