package org.modnet.fuzz;

import java.util.ArrayList;
import java.util.List;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;

import org.modnet.capture.FilterAccess;
import org.modnet.shell.net.ShellAccess;

/**
 * tcpdump's filter compiler and the shell's ip, sysctl and ethtool parsers, without OSGi or Gogo. The
 * first byte chooses; words come from each language's keywords, addresses and numbers (so the fuzzer
 * gets past the first keyword) or are the fuzzer's own strings. Filters: the compiled (eBPF) and the
 * interpreted filter must agree on frames made from the input. Commands run on a real standalone
 * stack (lo, eth0, ARP, IPv4, UDP), so they change it as a user would. Only the defined errors may
 * come out: the filter's syntax error, the command's {@code CommandException}.
 */
public final class ParserFuzzer {
    static final String[] FILTER = { "host", "src", "dst", "net", "port", "ip", "arp", "icmp", "tcp", "udp", "ether", "proto",
            "and", "or", "not", "&&", "||", "!", "(", ")", "10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/33", "255.255.255.255",
            "53", "65535", "65536", "0", "-1", "0x800", "2048", "10.0.0", "10", "/24", "icmp[0]", "len", "portrange", "1-1023",
            "vlan", "ip6", "rarp", "sctp", "broadcast", "multicast", "less", "greater", "mask", "255.0.0.0", "gateway",
            "02:00:00:00:00:01", "tcp[tcpflags]", "tcp-syn", "icmp[icmptype]", "icmp-echo", "ip[6:2]", "[", "]", ":", "4", "&", "|",
            "^", "+", "-", "*", "/", "%", "<<", ">>", "=", "==", "!=", "<", ">", "<=", ">=", "\\tcp", "0x1fff", "ether[0]", "::1", "2001:db8::/32", "fe80::1" };
    static final String[] IP = { "link", "addr", "address", "route", "neigh", "neighbour", "netns", "show", "list", "add", "del",
            "delete", "set", "flush", "get", "replace", "change", "exec", "dev", "lo", "eth0", "up", "down", "mtu", "name", "type",
            "veth", "peer", "via", "src", "table", "metric", "proto", "scope", "global", "host", "link", "broadcast", "brd", "+",
            "label", "lladdr", "nud", "permanent", "reachable", "stale", "to", "default", "local", "unreachable", "blackhole",
            "10.0.0.1", "10.0.0.0/24", "10.0.0.2", "192.0.2.1/32", "0.0.0.0/0", "1.2.3.4/33", "02:00:00:00:00:09", "ff:ff", "-s",
            "-d", "-4", "-o", "-j", "-n", "-br", "-details", "65536", "0", "-1", "1500", "4294967296", "help", "txqueuelen",
            "address", "arp", "off", "on", "promisc", "multicast", "numtxqueues", "numrxqueues", "ns1", "all", "main", "255" };
    static final String[] SYSCTL = { "-a", "-w", "-n", "-e", "-q", "-p", "net.ipv4.ip_forward", "net.ipv4.ip_forward=1",
            "net.ipv4.ip_forward=2", "net.ipv4.neigh.default.gc_thresh3=1", "net.core.somaxconn", "net.ipv4.icmp_ratelimit=0",
            "net.ipv4.ipfrag_high_thresh=0", "net.ipv4.ipfrag_time=-1", "net.core.netdev_max_backlog=0", "net.ipv4.neigh.eth0.mcast_solicit",
            "net", "net.", "=", "x=y", "net.ipv4.ip_local_port_range=1 0", "net.ipv4.ip_default_ttl=256", "99999999999999999999" };
    static final String[] ETHTOOL = { "-S", "-i", "-k", "-K", "-g", "-G", "-l", "-L", "-s", "eth0", "lo", "rx", "tx", "combined",
            "0", "1", "4096", "65536", "-1", "on", "off", "gro", "gso", "tso", "rx-checksumming", "speed", "duplex", "--statistics",
            "--show-ring", "--set-ring" };

    private static FrameFuzzer.Stack stack;
    private static ShellAccess shell;
    private static long filters;
    private static long commands;

    public static void fuzzerInitialize() {
        stack = new FrameFuzzer.Stack();
        shell = new ShellAccess(stack.core.core());
    }

    public static void fuzzerTearDown() {
        System.err.println("modnet-fuzz: parsers: " + filters + " filters, " + commands + " command lines");
    }

    public static void fuzzerTestOneInput(FuzzedDataProvider in) {
        if (shell == null) {
            fuzzerInitialize();
        }
        int which = in.consumeInt(0, 3);
        String[] dictionary = switch (which) {
            case 0 -> FILTER;
            case 1 -> IP;
            case 2 -> SYSCTL;
            default -> ETHTOOL;
        };
        int n = in.consumeInt(0, 12);
        List<String> words = new ArrayList<>(n);
        for (int i = 0; i < n && in.remainingBytes() > 0; i++) {
            words.add(in.consumeBoolean() ? dictionary[in.consumeInt(0, dictionary.length - 1)] : in.consumeString(24));
        }
        switch (which) {
            case 0 -> {
                filters++;
                List<byte[]> frames = new ArrayList<>();
                for (int i = 0; i < 3 && in.remainingBytes() > 0; i++) {
                    byte[] f = in.consumeBytes(in.consumeInt(0, 128));
                    if (f.length >= 14 && in.consumeBoolean()) {
                        f[12] = 8;
                        f[13] = 0;
                        if (f.length > 14) {
                            f[14] = 0x45;
                        }
                    }
                    frames.add(f);
                }
                FilterAccess.check(words, frames);
            }
            case 1 -> {
                commands++;
                shell.run("ip", words);
            }
            case 2 -> {
                commands++;
                shell.run("sysctl", words);
            }
            default -> {
                commands++;
                shell.run("ethtool", words);
            }
        }
    }
}
