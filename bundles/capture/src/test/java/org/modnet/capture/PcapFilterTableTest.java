package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * pcap-filter(7)'s language, expression by expression, over a corpus of hand-built frames (TCP with
 * each flag, UDP, ICMP, fragments, IP options, ARP, RARP, IPv6 with and without a fragment header,
 * 802.1Q and QinQ tags, broadcast and multicast, truncated frames): the compiled eBPF filter, the same
 * unoptimised ({@code -O}) and the interpreted expression accept the same frames; where Linux's
 * tcpdump is installed, so does its own program ({@code tcpdump -dd}, classic BPF, run by a small
 * interpreter here), and expressions it refuses are refused here in its words.
 */
class PcapFilterTableTest {
    private static final Path TCPDUMP = Path.of("/usr/bin/tcpdump");

    static final List<String> ACCEPTED = List.of("", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "sctp", "icmp6",
            "host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2", "ip host 10.0.0.1", "arp host 10.0.0.1",
            "rarp host 10.0.0.9", "src or dst host 10.0.0.2", "src and dst host 10.0.0.1", "host 10.0.0.1 or 10.0.0.2",
            "host 10.0.0.1 and not 10.0.0.2", "net 10.0.0.0/8", "src net 192.168.0.0/16", "dst net 10.0.0.0 mask 255.255.255.0",
            "net 10.0", "net 0.0.0.0/0", "port 53", "udp port 53", "tcp port 80", "tcp dst port 80", "udp src port 53",
            "src port 40000", "udp port 53 or 123", "tcp port 80 or 443", "port domain", "port 53 and not udp", "portrange 1-1023",
            "tcp portrange 80-90", "udp dst portrange 5000-5010", "portrange 200-100", "ether host 02:00:00:00:00:01",
            "ether src 02:00:00:00:00:01", "ether dst ff:ff:ff:ff:ff:ff", "ether broadcast", "ether multicast", "broadcast",
            "multicast", "ip broadcast", "ip multicast", "ip6 multicast", "ether proto 0x86dd", "ether proto \\arp",
            "ether proto 2048", "proto \\tcp", "ip proto 17", "ip proto \\icmp", "ip6 proto 58", "proto 132", "less 60",
            "greater 100", "len > 100", "len <= 64", "len - 14 >= 50", "icmp[0] == 8", "icmp[icmptype] == icmp-echo",
            "icmp[icmptype] = icmp-echoreply", "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
            "tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
            "tcp[13] & 4 != 0", "tcp[tcpflags] & tcp-push != 0 and tcp[tcpflags] & tcp-ack != 0", "tcp[tcpflags] & (tcp-rst|tcp-urg) = 0",
            "ip[6:2] & 0x1fff = 0", "ip[6:2] & 0x1fff != 0", "ip[0] & 0xf > 5", "ip[2:2] > 100", "ip[8] < 64", "ip[9] = 17",
            "udp[0:2] = 53", "udp[2:2] = 53", "tcp[0:2] > 1023", "tcp[2:2] = 80 or tcp[0:2] = 80", "ether[0] & 1 != 0",
            "ether[12:2] = 0x800", "ether[8:4] = 0x00000001",
            "ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) != 0", "(ip[2:2] - ((ip[0]&0xf)<<2)) > 30",
            "ip[2:2] / 4 > ip[0] & 0xf", "ip[0] % 3 = 1", "ip[8] * 2 + 1 > 100", "-ip[8] & 0xff = 192", "ip[8] ^ 0xff = 191",
            "ip[16:4] >> 24 = 10", "ip[8] | 1 = 65", "len = ip[2:2] + 14", "ip[ip[0] & 0xf] = 0", "ip[0:2] > len",
            "ip[-1] = 0", "vlan", "vlan 10", "vlan 20", "vlan and udp", "vlan 10 and host 10.0.0.1", "vlan and vlan",
            "vlan 10 or vlan 20", "tcp and not vlan", "udp and port 53", "tcp or icmp", "not arp", "! ip",
            "( tcp or udp ) and not port 22", "host 10.0.0.1 and ( port 53 or icmp )", "not ( host 10.0.0.1 or host 10.0.0.2 )",
            "tcp and not port 22 and not port 80", "icmp || arp || port 5000", "ip and not tcp and not udp and not icmp",
            "(tcp or udp) and (src net 10.0.0.0/8) and greater 60", "ip6 and tcp", "ip6 and udp port 53", "ip6 and not icmp6",
            "tcp and ip6", "icmp or udp and not arp", "1 = 1", "ip6 host 2001:db8::1", "src host 2001:db8::1", "dst net ff02::/16",
            "net 2001:db8::/32", "host fe80::1 or 2001:db8::1", "ip6 net 2001:db8::/64 and udp", "dst host ff02::1 and not icmp6",
            "icmp6[icmp6type] == icmp6-echo", "icmp6[0] = 128 or icmp[0] = 8", "igmp or sctp", "sctp[0:2] = 2905");

    /** Expressions tcpdump refuses, with its words. */
    static final Map<String, String> REFUSED = new LinkedHashMap<>();

    static {
        REFUSED.put("bogus", "can't parse filter expression: syntax error");
        REFUSED.put("host", "can't parse filter expression: syntax error");
        REFUSED.put("( tcp", "can't parse filter expression: syntax error");
        REFUSED.put("tcp )", "can't parse filter expression: syntax error");
        REFUSED.put("tcp-syn", "can't parse filter expression: syntax error");
        REFUSED.put("len-1 = 0", "can't parse filter expression: syntax error");
        REFUSED.put("10.0.0.1", "can't parse filter expression: syntax error");
        REFUSED.put("port 99999", "illegal port number 99999 > 65535");
        REFUSED.put("host foo.invalid", "unknown host 'foo.invalid'");
        REFUSED.put("ip[0] = 99999999999", "number 99999999999 overflows 32 bits");
        REFUSED.put("ip[0:3] = 1", "data size must be 1, 2, or 4");
        REFUSED.put("ip[0] / 0 = 1", "division by zero");
        REFUSED.put("ip[0] << 40 = 1", "shift by more than 31 bits");
        REFUSED.put("net 10.0.0.1/8", "non-network bits set in \"10.0.0.1/8\"");
        REFUSED.put("tcp host 10.0.0.1", "'tcp' modifier applied to host");
        REFUSED.put("ip port 80", "illegal qualifier of 'port'");
        REFUSED.put("vlan 5000", "VLAN tag 5000 greater than maximum 4095");
        REFUSED.put("gateway 10.0.0.1", "'gateway' requires a name");
        REFUSED.put("ip and vlan 10", "expression rejects all packets");
        REFUSED.put("ip host ::1", "'ip' modifier applied to ip6 host");
        REFUSED.put("net 2001:db8::1/32", "non-network bits set in \"2001:db8::1/32\"");
        REFUSED.put("icmp or udp and arp", "expression rejects all packets");
    }

    // --- the corpus ---

    static final byte[] MAC_A = { 2, 0, 0, 0, 0, 1 };
    static final byte[] MAC_B = { 2, 0, 0, 0, 0, 2 };
    static final byte[] BCAST = { -1, -1, -1, -1, -1, -1 };
    static final byte[] MCAST = { 1, 0, 0x5e, 0, 0, 1 };
    static final int A = 0x0a000001;
    static final int B = 0x0a000002;
    static final int C = 0xc0a80109;

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    static byte[] be(long v, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (v >>> (8 * (n - 1 - i)));
        }
        return b;
    }

    static byte[] eth(byte[] dst, byte[] src, int type, byte[] payload) {
        return cat(dst, src, be(type, 2), payload);
    }

    /** 802.1Q (or {@code tpid}) tags with these ids, then the ethertype and payload. */
    static byte[] tagged(int[] tpids, int[] vids, int type, byte[] payload) {
        byte[] tags = new byte[0];
        for (int i = 0; i < vids.length; i++) {
            tags = cat(tags, be(tpids[i], 2), be(vids[i], 2));
        }
        return cat(MAC_B, MAC_A, tags, be(type, 2), payload);
    }

    static byte[] ipv4(int proto, int src, int dst, int ttl, int frag, int optionWords, byte[] l4) {
        int ihl = 5 + optionWords;
        return cat(be(0x40 | ihl, 1), be(0, 1), be(ihl * 4 + l4.length, 2), be(1, 2), be(frag, 2), be(ttl, 1), be(proto, 1),
                be(0, 2), be(src, 4), be(dst, 4), new byte[optionWords * 4], l4);
    }

    static byte[] tcp(int sport, int dport, int flags, int data) {
        return cat(be(sport, 2), be(dport, 2), be(1000, 4), be(0, 4), be(0x50, 1), be(flags, 1), be(65535, 2), be(0, 4),
                new byte[data]);
    }

    static byte[] udp(int sport, int dport, int data) {
        return cat(be(sport, 2), be(dport, 2), be(8 + data, 2), be(0, 2), new byte[data]);
    }

    static byte[] icmp(int type, int code) {
        return cat(be(type, 1), be(code, 1), be(0, 2), be(7, 2), be(1, 2), new byte[16]);
    }

    static byte[] ipv6(int next, byte[] l4) {
        byte[] src = cat(be(0x20010db8, 4), new byte[11], be(1, 1));
        byte[] dst = cat(be(0xff020000, 4), new byte[11], be(1, 1));
        return cat(be(0x60000000, 4), be(l4.length, 2), be(next, 1), be(64, 1), src, dst, l4);
    }

    static byte[] arp(int op, int spa, int tpa) {
        return cat(be(1, 2), be(0x800, 2), be(6, 1), be(4, 1), be(op, 2), MAC_A, be(spa, 4), new byte[6], be(tpa, 4));
    }

    static byte[] v4(byte[] dst, int proto, int src, int dstIp, byte[] l4) {
        return eth(dst, MAC_A, 0x800, ipv4(proto, src, dstIp, 64, 0, 0, l4));
    }

    static List<byte[]> corpus() {
        List<byte[]> f = new ArrayList<>();
        int[] flags = { 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x20 };
        for (int fl : flags) {
            f.add(v4(MAC_B, 6, A, B, tcp(40000, 80, fl, fl == 0x18 ? 100 : 0)));
        }
        f.add(v4(MAC_B, 6, B, A, tcp(80, 40000, 0x12, 0)));
        f.add(v4(MAC_B, 6, C, A, tcp(22, 1023, 0x10, 10)));
        f.add(v4(MAC_B, 6, A, C, tcp(443, 85, 0x18, 40)));
        f.add(v4(MAC_B, 6, C, B, tcp(53, 40000, 0x10, 0)));
        f.add(v4(MAC_B, 17, A, B, udp(40000, 53, 20)));
        f.add(v4(MAC_B, 17, B, A, udp(53, 40000, 80)));
        f.add(v4(MAC_B, 17, C, B, udp(123, 123, 48)));
        f.add(v4(MAC_B, 17, A, B, udp(5000, 5005, 4)));
        f.add(v4(MAC_A, 17, A, A, udp(7, 7, 1)));
        f.add(v4(BCAST, 17, A, 0xffffffff, udp(68, 67, 240)));
        f.add(v4(MCAST, 17, A, 0xe0000001, udp(5353, 5353, 30)));
        f.add(v4(MAC_B, 1, A, B, icmp(8, 0)));
        f.add(v4(MAC_B, 1, B, A, icmp(0, 0)));
        f.add(v4(MAC_B, 1, C, A, icmp(3, 3)));
        f.add(v4(MAC_B, 132, A, B, udp(2905, 2905, 12))); // SCTP: its ports where UDP's are
        f.add(v4(MAC_B, 47, A, B, new byte[24]));
        // fragments: the first holds the ports, the later ones do not
        f.add(eth(MAC_B, MAC_A, 0x800, ipv4(17, A, B, 64, 0x2000, 0, udp(40000, 53, 40))));
        f.add(eth(MAC_B, MAC_A, 0x800, ipv4(17, A, B, 64, 0x0005, 0, udp(40000, 53, 8))));
        f.add(eth(MAC_B, MAC_A, 0x800, ipv4(6, A, B, 32, 0x0010, 0, tcp(0x0002, 80, 0x02, 0))));
        // IP options (ihl 6, 7): the transport header moves
        f.add(eth(MAC_B, MAC_A, 0x800, ipv4(6, A, B, 64, 0, 1, tcp(40001, 80, 0x02, 0))));
        f.add(eth(MAC_B, MAC_A, 0x800, ipv4(17, B, A, 200, 0, 2, udp(53, 9, 0))));
        // ARP, RARP
        f.add(eth(BCAST, MAC_A, 0x806, arp(1, A, B)));
        f.add(eth(MAC_A, MAC_B, 0x806, arp(2, B, A)));
        f.add(eth(BCAST, MAC_A, 0x8035, arp(3, 0x0a000009, 0)));
        // IPv6: TCP, UDP, ICMPv6, a fragment header, multicast
        f.add(eth(MAC_B, MAC_A, 0x86dd, ipv6(6, tcp(40000, 80, 0x02, 0))));
        f.add(eth(MAC_B, MAC_A, 0x86dd, ipv6(17, udp(40000, 53, 10))));
        f.add(eth(MAC_B, MAC_A, 0x86dd, ipv6(58, icmp(128, 0))));
        f.add(eth(MAC_B, MAC_A, 0x86dd, ipv6(44, cat(be(17, 1), new byte[7], udp(53, 1, 2)))));
        f.add(eth(MAC_B, MAC_A, 0x86dd, ipv6(132, udp(80, 80, 4))));
        // 802.1Q, 802.1ad, QinQ
        f.add(tagged(new int[] { 0x8100 }, new int[] { 10 }, 0x800, ipv4(17, A, B, 64, 0, 0, udp(40000, 53, 10))));
        f.add(tagged(new int[] { 0x8100 }, new int[] { 20 }, 0x800, ipv4(6, A, B, 64, 0, 0, tcp(40000, 80, 0x02, 0))));
        f.add(tagged(new int[] { 0x8100 }, new int[] { 0x200a }, 0x800, ipv4(1, B, A, 64, 0, 0, icmp(8, 0))));
        f.add(tagged(new int[] { 0x88a8, 0x8100 }, new int[] { 10, 20 }, 0x800, ipv4(17, A, B, 64, 0, 0, udp(1, 53, 0))));
        f.add(tagged(new int[] { 0x9100 }, new int[] { 20 }, 0x86dd, ipv6(17, udp(53, 53, 0))));
        f.add(tagged(new int[] { 0x8100 }, new int[] { 10 }, 0x806, arp(1, A, B)));
        // truncated and odd frames: a load past the end rejects the frame
        byte[] full = v4(MAC_B, 6, A, B, tcp(40000, 80, 0x02, 0));
        for (int len : new int[] { 0, 6, 13, 14, 20, 24, 30, 34, 36, 40, 47 }) {
            f.add(java.util.Arrays.copyOf(full, len));
        }
        f.add(java.util.Arrays.copyOf(v4(MAC_B, 17, A, B, udp(40000, 53, 0)), 37));
        byte[] v6hdr = eth(MAC_B, MAC_A, 0x800, ipv4(6, A, B, 64, 0, 0, tcp(40000, 80, 0x02, 0)));
        v6hdr[14] = 0x65; // version 6 in an IPv4 ethertype: libpcap does not look
        f.add(v6hdr);
        byte[] longIhl = eth(MAC_B, MAC_A, 0x800, ipv4(6, A, B, 64, 0, 0, tcp(40000, 80, 0x02, 0)));
        longIhl[14] = 0x4f; // a header of 60 bytes: the ports are past the end
        f.add(longIhl);
        f.add(eth(MAC_B, MAC_A, 0x88cc, new byte[46]));
        f.add(eth(MAC_B, new byte[] { 0, 0, 0, 0, 0, 1 }, 0x800, ipv4(17, A, B, 64, 0, 0, udp(1, 2, 100))));
        return f;
    }

    // --- Linux's side: tcpdump -dd, run as classic BPF ---

    /** Linux's program for the expression ({@code tcpdump -dd -y EN10MB}), or its error line (starting "tcpdump: "). */
    static Object linux(String expression) throws Exception {
        Process p = new ProcessBuilder(TCPDUMP.toString(), "-dd", "-y", "EN10MB", "--", expression).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(10, TimeUnit.SECONDS);
        if (p.exitValue() != 0) {
            return err;
        }
        List<long[]> prog = new ArrayList<>();
        for (String line : out.split("\n")) {
            line = line.trim();
            if (line.startsWith("{")) {
                String[] v = line.replaceAll("[{}, ]+", " ").trim().split(" ");
                prog.add(new long[] { Long.decode(v[0]), Long.decode(v[1]), Long.decode(v[2]), Long.decode(v[3]) });
            }
        }
        return prog;
    }

    /** Classic BPF (bpf(4)) on the frame: true when it returns non-zero. A load past the end, or x/0, returns 0. */
    static boolean cbpf(List<long[]> prog, byte[] p) {
        long a = 0;
        long x = 0;
        long[] mem = new long[16];
        int pc = 0;
        try {
            while (true) {
                long[] in = prog.get(pc++);
                int code = (int) in[0];
                long k = in[3] & 0xffffffffL;
                int jt = (int) in[1];
                int jf = (int) in[2];
                int size = (code & 0x18) == 0 ? 4 : (code & 0x18) == 8 ? 2 : 1;
                switch (code & 7) {
                    case 0 -> a = switch (code & 0xe0) { // LD
                        case 0x00 -> k;
                        case 0x20 -> load(p, k, size);
                        case 0x40 -> load(p, (x + k) & 0xffffffffL, size);
                        case 0x60 -> mem[(int) k];
                        case 0x80 -> p.length;
                        default -> throw new IllegalStateException("ld " + code);
                    };
                    case 1 -> x = switch (code & 0xe0) { // LDX
                        case 0x00 -> k;
                        case 0x60 -> mem[(int) k];
                        case 0x80 -> p.length;
                        case 0xa0 -> 4 * (load(p, k, 1) & 0xf);
                        default -> throw new IllegalStateException("ldx " + code);
                    };
                    case 2 -> mem[(int) k] = a;
                    case 3 -> mem[(int) k] = x;
                    case 4 -> { // ALU
                        long s = (code & 8) != 0 ? x : k;
                        a = switch (code & 0xf0) {
                            case 0x00 -> a + s;
                            case 0x10 -> a - s;
                            case 0x20 -> a * s;
                            case 0x30 -> {
                                if (s == 0) {
                                    throw new IndexOutOfBoundsException();
                                }
                                yield a / s;
                            }
                            case 0x40 -> a | s;
                            case 0x50 -> a & s;
                            case 0x60 -> a << (s & 31);
                            case 0x70 -> a >>> (s & 31);
                            case 0x80 -> -a;
                            case 0x90 -> {
                                if (s == 0) {
                                    throw new IndexOutOfBoundsException();
                                }
                                yield a % s;
                            }
                            case 0xa0 -> a ^ s;
                            default -> throw new IllegalStateException("alu " + code);
                        } & 0xffffffffL;
                    }
                    case 5 -> { // JMP
                        long s = (code & 8) != 0 ? x : k;
                        boolean t = switch (code & 0xf0) {
                            case 0x00 -> {
                                pc += (int) k;
                                yield true;
                            }
                            case 0x10 -> a == s;
                            case 0x20 -> a > s;
                            case 0x30 -> a >= s;
                            case 0x40 -> (a & s) != 0;
                            default -> throw new IllegalStateException("jmp " + code);
                        };
                        if ((code & 0xf0) != 0) {
                            pc += t ? jt : jf;
                        }
                    }
                    case 6 -> {
                        return ((code & 0x18) == 0x10 ? a : k) != 0;
                    }
                    default -> {
                        if ((code & 0xf8) == 0) {
                            x = a;
                        } else {
                            a = x;
                        }
                    }
                }
            }
        } catch (IndexOutOfBoundsException outside) {
            return false;
        }
    }

    private static long load(byte[] p, long at, int size) {
        if (at >= 0x80000000L || at + size > p.length) {
            throw new IndexOutOfBoundsException();
        }
        long v = 0;
        for (int i = 0; i < size; i++) {
            v = v << 8 | (p[(int) at + i] & 0xff);
        }
        return v;
    }

    static List<String> words(String e) {
        return e.isEmpty() ? List.of() : List.of(e);
    }

    // --- the tests ---

    @Test
    void theTableHasTheExpressionsPeopleType() {
        assertTrue(ACCEPTED.size() + REFUSED.size() >= 80, ACCEPTED.size() + REFUSED.size() + " expressions");
    }

    @Test
    void compiledOptimisedUnoptimisedAndInterpretedAgreeOnEveryFrame() {
        List<byte[]> frames = corpus();
        List<String> untold = new ArrayList<>();
        for (String e : ACCEPTED) {
            BpfFilter optimised = BpfFilter.compile(BpfFilterTest.BPF, words(e));
            BpfFilter plain = BpfFilter.compile(BpfFilterTest.BPF, words(e), false);
            java.util.function.Predicate<Frame> interpreted = Filter.parse(words(e));
            int kept = 0;
            for (int i = 0; i < frames.size(); i++) {
                byte[] f = frames.get(i);
                boolean want = interpreted.test(new Frame(f));
                int n = i;
                assertEquals(want, optimised.test(f), () -> "\"" + e + "\" on frame " + n);
                assertEquals(want, plain.test(f), () -> "-O \"" + e + "\" on frame " + n);
                kept += want ? 1 : 0;
            }
            if (!e.isEmpty() && !e.equals("1 = 1") && (kept == 0 || kept == frames.size())) {
                untold.add("\"" + e + "\" keeps " + kept + " of " + frames.size());
            }
        }
        assertEquals(List.of(), untold, "the corpus does not tell these from true or false");
    }

    @Test
    void verdictsAgreeWithLinuxTcpdumpsOwnProgram() throws Exception {
        assumeTrue(Files.isExecutable(TCPDUMP), "tcpdump is not installed: Linux's side of the table is skipped (install tcpdump to run it)");
        List<byte[]> frames = corpus();
        List<String> wrong = new ArrayList<>();
        for (String e : ACCEPTED) {
            Object theirs = linux(e);
            if (!(theirs instanceof List<?> l)) {
                wrong.add("\"" + e + "\": tcpdump refuses it: " + theirs);
                continue;
            }
            @SuppressWarnings("unchecked")
            List<long[]> prog = (List<long[]>) l;
            BpfFilter ours = BpfFilter.compile(BpfFilterTest.BPF, words(e));
            for (int i = 0; i < frames.size(); i++) {
                boolean linux = cbpf(prog, frames.get(i));
                if (linux != ours.test(frames.get(i))) {
                    wrong.add("\"" + e + "\" on frame " + i + ": Linux " + linux + ", modnet " + !linux);
                }
            }
        }
        for (Map.Entry<String, String> r : REFUSED.entrySet()) {
            Object theirs = linux(r.getKey());
            if (!("tcpdump: " + r.getValue()).equals(theirs)) {
                wrong.add("\"" + r.getKey() + "\": tcpdump says " + theirs + ", the table " + r.getValue());
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void refusedExpressionsAreRefusedInLibpcapsWords() {
        for (Map.Entry<String, String> r : REFUSED.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BpfFilter.compile(BpfFilterTest.BPF, words(r.getKey())), r.getKey());
            assertEquals(r.getValue(), e.getMessage(), r.getKey());
        }
    }

    @Test
    void theFiltersPeopleTypeMostKeepTheFramesTheyName() {
        byte[] syn = v4(MAC_B, 6, A, B, tcp(40000, 80, 0x02, 0));
        byte[] ack = v4(MAC_B, 6, A, B, tcp(40000, 80, 0x10, 0));
        byte[] dns = v4(MAC_B, 17, A, B, udp(40000, 53, 20));
        byte[] dns6 = eth(MAC_B, MAC_A, 0x86dd, ipv6(17, udp(40000, 53, 10)));
        byte[] laterFragment = eth(MAC_B, MAC_A, 0x800, ipv4(17, A, B, 64, 0x0005, 0, udp(40000, 53, 8)));
        byte[] tagged = tagged(new int[] { 0x8100 }, new int[] { 10 }, 0x800, ipv4(17, A, B, 64, 0, 0, udp(40000, 53, 10)));
        byte[] echo = v4(MAC_B, 1, A, B, icmp(8, 0));
        assertTrue(keeps("tcp[tcpflags] & tcp-syn != 0", syn));
        assertFalse(keeps("tcp[tcpflags] & tcp-syn != 0", ack));
        assertTrue(keeps("udp port 53", dns));
        assertTrue(keeps("udp port 53", dns6));
        assertFalse(keeps("udp port 53", laterFragment));
        assertTrue(keeps("ip[6:2] & 0x1fff != 0", laterFragment));
        assertFalse(keeps("udp port 53", tagged));
        assertTrue(keeps("vlan 10 and udp port 53", tagged));
        assertFalse(keeps("vlan 20 and udp port 53", tagged));
        assertTrue(keeps("icmp[icmptype] == icmp-echo", echo));
        assertTrue(keeps("icmp[0] == 8 and len > 40", echo));
        assertTrue(keeps("ether dst 02:00:00:00:00:02 and ether src 02:00:00:00:00:01", echo));
        assertTrue(keeps("host 10.0.0.9 or 10.0.0.2", echo));
        assertTrue(keeps("tcp dst port 80 or 443", syn));
        assertFalse(keeps("tcp src port 80 or 443", syn));
        assertFalse(keeps("not tcp[100] = 0", syn)); // past the end: rejected whatever "not" says, as classic BPF does
    }

    private static boolean keeps(String e, byte[] f) {
        boolean compiled = BpfFilter.compile(BpfFilterTest.BPF, List.of(e)).test(f);
        assertEquals(compiled, Filter.parse(List.of(e)).test(new Frame(f)), e);
        return compiled;
    }
}
