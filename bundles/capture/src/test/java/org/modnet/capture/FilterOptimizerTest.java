package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * The optimiser keeps every verdict and makes long filters short: the optimised program decides as
 * the unoptimised one ({@code tcpdump -O}) and as the decoded-frame evaluation on crafted and random
 * frames, and a long "or" of hosts or ports fits the JIT.
 */
class FilterOptimizerTest {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    static final List<String> MORE = List.of("host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.1",
            "host 10.0.0.1 and host 10.0.0.1", "host 10.0.0.1 and not host 10.0.0.1", "ip and ip and not arp",
            "( ip or arp ) and ( host 10.0.0.1 or host 192.168.1.9 )", "not ( not ( port 53 ) ) and udp",
            "port 53 or port 22 or port 5000 or src port 40000", "tcp and ( port 22 or port 80 ) and not host 10.0.0.2",
            "net 10.0.0.0/8 and not net 10.0.0.0/24 or arp", "src host 10.0.0.1 and dst host 10.0.0.2",
            "ether proto 0x806 or ether proto 0x800 and icmp", "icmp and tcp", "not ip or not arp",
            "( host 10.0.0.1 or port 53 ) and ( host 10.0.0.2 or port 40000 ) and ( udp or tcp )",
            "dst net 192.168.1.0/24 or src net 10.0.0.0/31", "ip and ( not ip or udp )");

    static List<String> all() {
        List<String> e = new ArrayList<>(BpfFilterTest.EXPRESSIONS);
        e.addAll(MORE);
        return e;
    }

    static List<String> words(String e) {
        return e.isEmpty() ? List.of() : List.of(e.split(" "));
    }

    static List<byte[]> frames() {
        List<byte[]> f = BpfFilterTest.frames();
        Random r = new Random(13);
        int[] hosts = { 0x0a000001, 0x0a000002, 0xc0a80109, 0x0a0000ff, 0x0a000100 };
        int[] ports = { 22, 53, 80, 5000, 40000, 1 };
        for (int i = 0; i < 2000; i++) {
            int proto = new int[] { 1, 6, 17, 47 }[r.nextInt(4)];
            int ihl = 5 + r.nextInt(3);
            int len = 34 + r.nextInt(50);
            int frag = r.nextInt(4) == 0 ? r.nextInt(0x4000) : 0;
            byte[] b = BpfFilterTest.ipv4(proto, hosts[r.nextInt(hosts.length)], hosts[r.nextInt(hosts.length)],
                    ports[r.nextInt(ports.length)], ports[r.nextInt(ports.length)], ihl, frag, len);
            if (r.nextInt(5) == 0) {
                b[12] = 0x08;
                b[13] = 0x06; // the same bytes as ARP
            }
            if (r.nextInt(10) == 0) {
                b[14] = (byte) (0x60 | ihl); // not version 4
            }
            f.add(b);
        }
        return f;
    }

    @Test
    void theOptimisedProgramDecidesAsTheUnoptimisedOneAndTheDecodedFrame() {
        List<byte[]> frames = frames();
        for (String e : all()) {
            BpfFilter optimised = optimisedOrNone(e);
            BpfFilter plain = BpfFilter.compile(BPF, words(e), false);
            Predicate<Frame> reference = Filter.parse(words(e));
            assertTrue(optimised == null || optimised.length() <= plain.length(), () -> e + ": " + optimised.length() + " > " + plain.length());
            for (byte[] f : frames) {
                boolean want = reference.test(new Frame(f));
                assertEquals(want, plain.test(f), () -> "-O \"" + e + "\" on " + Arrays.toString(f));
                assertEquals(want, optimised != null && optimised.test(f), () -> "\"" + e + "\" on " + Arrays.toString(f));
            }
        }
    }

    static final String[] PRIMITIVES = { "ip", "arp", "icmp", "tcp", "udp", "host 10.0.0.1", "src host 10.0.0.2",
            "dst host 192.168.1.9", "host 10.0.0.255", "net 10.0.0.0/24", "src net 10.0.0.0/8", "dst net 192.168.0.0/16",
            "port 53", "src port 22", "dst port 40000", "port 5000", "ether proto 0x806", "ether proto 0x86dd",
            "tcp[tcpflags] & tcp-syn != 0", "len > 60", "ip[8] * 2 > ip[9]", "udp portrange 50-60", "ip[6:2] & 0x1fff = 0",
            "icmp[icmptype] = icmp-echo", "ip[ip[0] & 0xf] < 0x40" };

    /** A random expression of the primitives, "and", "or", "not" and parentheses, at most depth deep. */
    static String randomExpression(Random r, int depth) {
        if (depth == 0 || r.nextInt(3) == 0) {
            return PRIMITIVES[r.nextInt(PRIMITIVES.length)];
        }
        return switch (r.nextInt(4)) {
            case 0 -> "not " + randomExpression(r, depth - 1);
            case 1 -> "( " + randomExpression(r, depth - 1) + " ) and " + randomExpression(r, depth - 1);
            case 2 -> randomExpression(r, depth - 1) + " or ( " + randomExpression(r, depth - 1) + " )";
            default -> "( " + randomExpression(r, depth - 1) + " or " + randomExpression(r, depth - 1) + " ) and not ( "
                    + randomExpression(r, depth - 1) + " )";
        };
    }

    /** The optimised filter, or null where the optimiser found it rejects every frame (and said so, as libpcap does). */
    static BpfFilter optimisedOrNone(String e) {
        try {
            return BpfFilter.compile(BPF, words(e));
        } catch (IllegalArgumentException x) {
            assertEquals("expression rejects all packets", x.getMessage(), e);
            return null;
        }
    }

    @Test
    void randomExpressionsDecideTheSameOptimisedOrNot() {
        List<byte[]> frames = frames();
        Random r = new Random(2026);
        int shorter = 0;
        for (int i = 0; i < 150; i++) {
            String e = randomExpression(r, 4);
            BpfFilter optimised = optimisedOrNone(e);
            BpfFilter plain = BpfFilter.compile(BPF, words(e), false);
            Predicate<Frame> reference = Filter.parse(words(e));
            if (optimised == null || optimised.length() < plain.length()) {
                shorter++;
            }
            for (byte[] f : frames) {
                boolean want = reference.test(new Frame(f));
                assertEquals(want, plain.test(f), () -> "-O \"" + e + "\" on " + Arrays.toString(f));
                assertEquals(want, optimised != null && optimised.test(f), () -> "\"" + e + "\" on " + Arrays.toString(f));
            }
        }
        assertTrue(shorter > 100, shorter + " of 150 shorter");
    }

    @Test
    void aTestTheWayAlreadyDecidedIsGone() {
        // "host A or host A": the second term's every test is decided by the first's
        BpfFilter once = BpfFilter.compile(BPF, words("host 10.0.0.1"));
        BpfFilter twice = BpfFilter.compile(BPF, words("host 10.0.0.1 or host 10.0.0.1"));
        assertEquals(once.dump(), twice.dump());
        // "icmp and tcp" can match nothing: libpcap's optimiser sees it and refuses the filter, so does this one
        IllegalArgumentException never = assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, words("icmp and tcp")));
        assertEquals("expression rejects all packets", never.getMessage());
        BpfFilter plain = BpfFilter.compile(BPF, words("icmp and tcp"), false);
        assertTrue(frames().stream().noneMatch(plain::test));
    }

    static List<String> terms(String primitive, int n, boolean distinct) {
        List<String> w = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                w.add("or");
            }
            w.add(primitive);
            if (primitive.equals("host")) {
                int k = distinct ? i : 0;
                w.add("10." + (k >> 16 & 255) + "." + (k >> 8 & 255) + "." + (k & 255));
            } else {
                w.add(Integer.toString(distinct ? 1000 + i : 1000));
            }
        }
        return w;
    }

    static byte[] frame(int saddr, int daddr, int sport, int dport) {
        return BpfFilterTest.ipv4(17, saddr, daddr, sport, dport, 5, 0, 60);
    }

    @Test
    void threeHundredHostsFitTheJit() {
        BpfFilter plain = BpfFilter.compile(BPF, terms("host", 300, true), false);
        BpfFilter f = BpfFilter.compile(BPF, terms("host", 300, true));
        System.out.println("300 hosts: " + plain.length() + " instructions unoptimised (" + plain.engine() + "), "
                + f.length() + " optimised (" + f.engine() + ")");
        assertEquals("jit", f.engine());
        assertEquals("interpreter", plain.engine()); // the JIT refuses the unoptimised one: it is still run
        assertTrue(f.length() * 6 < plain.length(), f.length() + " vs " + plain.length());
        assertTrue(f.test(frame(0x0a000005, 0x08080808, 1, 2)));
        assertTrue(f.test(frame(0x08080808, 0x0a00012b, 1, 2))); // 10.0.1.43 is term 299
        assertTrue(!f.test(frame(0x0a00012c, 0x08080808, 1, 2)));
        assertTrue(plain.test(frame(0x08080808, 0x0a00012b, 1, 2)));
    }

    @Test
    void twoThousandHostsGiveTheRightVerdicts() {
        BpfFilter f = BpfFilter.compile(BPF, terms("host", 2000, true));
        BpfFilter plain = BpfFilter.compile(BPF, terms("host", 2000, true), false);
        BpfFilter same = BpfFilter.compile(BPF, terms("host", 2000, false));
        System.out.println("2000 hosts: " + plain.length() + " instructions unoptimised, " + f.length() + " optimised ("
                + f.engine() + "); 2000 times the same host: " + same.length() + " (" + same.engine() + ")");
        assertTrue(f.length() * 6 < plain.length());
        assertEquals("jit", same.engine());
        assertTrue(same.length() < 40, same.dump().toString());
        Random r = new Random(5);
        for (int i = 0; i < 400; i++) {
            int k = r.nextInt(2200);
            int a = 0x0a000000 | k;
            boolean want = k < 2000;
            byte[] src = frame(a, 0x08080808, 1, 2);
            byte[] dst = frame(0x08080808, a, 1, 2);
            assertEquals(want, f.test(src), () -> "10.0.x.y #" + k);
            assertEquals(want, f.test(dst), () -> "10.0.x.y #" + k);
            assertEquals(want, plain.test(dst), () -> "-O 10.0.x.y #" + k);
            byte[] arp = new byte[42];
            arp[12] = 0x08;
            arp[13] = 0x06;
            BpfFilterTest.put32(arp, 28, a);
            assertEquals(want, f.test(arp), () -> "ARP 10.0.x.y #" + k);
        }
        assertTrue(!f.test(new byte[20]));
    }

    @Test
    void twoThousandPortsGiveTheRightVerdicts() {
        BpfFilter f = BpfFilter.compile(BPF, terms("port", 2000, true));
        BpfFilter plain = BpfFilter.compile(BPF, terms("port", 2000, true), false);
        System.out.println("2000 ports: " + plain.length() + " instructions unoptimised, " + f.length() + " optimised ("
                + f.engine() + ")");
        assertTrue(f.length() * 6 < plain.length());
        for (int p = 990; p < 3010; p += 7) {
            boolean want = p >= 1000 && p < 3000;
            int port = p;
            assertEquals(want, f.test(frame(0x0a000001, 0x0a000002, port, 9)), () -> "sport " + port);
            assertEquals(want, f.test(frame(0x0a000001, 0x0a000002, 9, port)), () -> "dport " + port);
            assertEquals(want, plain.test(frame(0x0a000001, 0x0a000002, 9, port)), () -> "-O dport " + port);
        }
    }

    @Test
    void dashOPrintsTheUnoptimisedProgram() {
        List<String> w = words("tcp or udp or icmp");
        List<String> optimised = BpfFilter.compile(BPF, w).dump();
        List<String> plain = BpfFilter.compile(BPF, w, false).dump();
        assertNotEquals(plain, optimised);
        assertTrue(optimised.size() < plain.size(), optimised.size() + " vs " + plain.size());
        // -O tests the ethertype for every term; the optimised program once
        // tcp and udp test IPv4's and IPv6's ethertype, icmp IPv4's
        assertEquals(5, plain.stream().filter(l -> l.contains("ldxh %r3, [%r6+12]")).count(), String.join("\n", plain));
        assertEquals(1, optimised.stream().filter(l -> l.contains("[%r6+12]")).count(), String.join("\n", optimised));
    }

    static String tcpdump(String... args) throws Exception {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true));
        try {
            // a session that knows no variables: Gogo never passes null for one (a null means `tcpdump $unset`)
            org.apache.felix.service.command.CommandSession session = (org.apache.felix.service.command.CommandSession)
                    java.lang.reflect.Proxy.newProxyInstance(FilterOptimizerTest.class.getClassLoader(),
                            new Class<?>[] { org.apache.felix.service.command.CommandSession.class }, (proxy, m, a) -> null);
            new TcpdumpCommand(null, null, BPF).tcpdump(session, args);
        } finally {
            System.setOut(out);
        }
        return bytes.toString();
    }

    @Test
    void tcpdumpDashDPrintsTheOptimisedProgramAndDashOTheOther() throws Exception {
        String optimised = tcpdump("-d", "tcp or udp or icmp");
        String plain = tcpdump("-d", "-O", "tcp or udp or icmp");
        // classic BPF in libpcap's words, without the length guards eBPF needs (a classic load past the end returns 0)
        assertTrue(optimised.startsWith("(000) ldh      [12]\n(001) jeq      #0x800           jt "), optimised);
        assertTrue(optimised.strip().endsWith("ret      #0"), optimised);
        assertNotEquals(plain, optimised);
        assertTrue(optimised.lines().count() < plain.lines().count(), optimised + "\nvs\n" + plain);
        String w = String.join(" ", terms("host", 300, true));
        long small = tcpdump("-d", w).lines().count();
        long large = tcpdump("-d", "-O", w).lines().count(); // long jumps: the far layout, every test through two ja
        assertTrue(small < large, small + " vs " + large);
        org.modnet.api.shell.CommandException e = assertThrows(org.modnet.api.shell.CommandException.class,
                () -> tcpdump("-d", "(".repeat(5000) + "ip" + ")".repeat(5000)));
        assertEquals("tcpdump: expression too complex", e.getMessage());
    }

    @Test
    void deepNestingIsTooComplexNotAStackOverflow() {
        List<String> w = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            w.add("(");
        }
        w.add("ip");
        for (int i = 0; i < 100_000; i++) {
            w.add(")");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, w));
        assertEquals("expression too complex", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Filter.parse(w));
        List<String> nots = new ArrayList<>(java.util.Collections.nCopies(100_000, "not"));
        nots.add("ip");
        assertEquals("expression too complex", assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, nots)).getMessage());
        // within the bound it still works
        List<String> fine = new ArrayList<>(java.util.Collections.nCopies(100, "not"));
        fine.add("ip");
        assertTrue(BpfFilter.compile(BPF, fine).test(BpfFilterTest.ipv4(6, 1, 2, 3, 4, 5, 0, 60)));
    }
}
