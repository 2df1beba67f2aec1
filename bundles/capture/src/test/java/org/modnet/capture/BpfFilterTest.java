package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * tcpdump's expressions compiled to eBPF decide exactly as the decoded-frame evaluation does, on
 * well-formed frames of every kind and on random and truncated bytes.
 */
class BpfFilterTest {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    static final List<String> EXPRESSIONS = List.of("", "ip", "arp", "icmp", "tcp", "udp", "host 10.0.0.1", "src host 10.0.0.1",
            "dst host 10.0.0.2", "net 10.0.0.0/8", "src net 192.168.0.0/16", "port 53", "src port 53", "dst port 80",
            "udp and port 53", "tcp or icmp", "not arp", "! ip", "ether proto 0x86dd", "ether proto 2054",
            "( tcp or udp ) and not port 22", "host 10.0.0.1 and ( port 53 or icmp )", "not ( host 10.0.0.1 or host 10.0.0.2 )",
            "net 0.0.0.0/0", "dst net 10.0.0.2/32 && udp", "icmp || arp || port 5000");

    static byte[] ipv4(int proto, int saddr, int daddr, int sport, int dport, int ihl, int frag, int len) {
        byte[] b = new byte[len];
        b[12] = 0x08;
        b[14] = (byte) (0x40 | ihl);
        b[20] = (byte) (frag >>> 8);
        b[21] = (byte) frag;
        b[23] = (byte) proto;
        put32(b, 26, saddr);
        put32(b, 30, daddr);
        int l4 = 14 + ihl * 4;
        if (l4 + 4 <= len) {
            b[l4] = (byte) (sport >>> 8);
            b[l4 + 1] = (byte) sport;
            b[l4 + 2] = (byte) (dport >>> 8);
            b[l4 + 3] = (byte) dport;
        }
        return b;
    }

    static void put32(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static List<byte[]> frames() {
        List<byte[]> f = new ArrayList<>();
        int a = 0x0a000001;
        int b = 0x0a000002;
        int c = 0xc0a80109;
        for (int proto : new int[] { 1, 6, 17, 47 }) {
            for (int[] ports : new int[][] { { 53, 40000 }, { 40000, 53 }, { 22, 80 }, { 5000, 5000 } }) {
                f.add(ipv4(proto, a, b, ports[0], ports[1], 5, 0, 60));
                f.add(ipv4(proto, c, a, ports[0], ports[1], 6, 0, 64));
                f.add(ipv4(proto, b, c, ports[0], ports[1], 5, 0x0010, 60)); // a later fragment: no ports
                f.add(ipv4(proto, a, b, ports[0], ports[1], 5, 0, 36)); // too short for ports
            }
        }
        byte[] arp = new byte[42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        put32(arp, 28, a);
        put32(arp, 38, b);
        f.add(arp);
        byte[] v6 = new byte[60];
        v6[12] = (byte) 0x86;
        v6[13] = (byte) 0xdd;
        f.add(v6);
        f.add(new byte[0]);
        f.add(new byte[13]);
        f.add(Arrays.copyOf(arp, 30));
        Random r = new Random(7);
        for (int i = 0; i < 300; i++) {
            byte[] junk = new byte[r.nextInt(80)];
            r.nextBytes(junk);
            if (junk.length > 14 && r.nextBoolean()) {
                junk[12] = 0x08;
                junk[13] = (byte) (r.nextBoolean() ? 0 : 6);
                junk[14] = (byte) (0x40 | (r.nextInt(11) + 5));
            }
            f.add(junk);
        }
        return f;
    }

    @Test
    void theCompiledFilterDecidesAsTheDecodedOneOnEveryFrame() {
        List<byte[]> frames = frames();
        int kept = 0;
        for (String e : EXPRESSIONS) {
            List<String> words = e.isEmpty() ? List.of() : List.of(e.split(" "));
            Predicate<Frame> reference = Filter.parse(words);
            BpfFilter compiled = BpfFilter.compile(BPF, words);
            for (byte[] f : frames) {
                boolean want = reference.test(new Frame(f));
                assertEquals(want, compiled.test(f), () -> "\"" + e + "\" on " + Arrays.toString(f));
            }
            kept += frames.stream().filter(f -> compiled.test(f)).count();
        }
        assertTrue(kept > 0);
    }

    @Test
    void dumpPrintsTheProgramAndErrorsAreTcpdumps() throws Exception {
        List<String> d = BpfFilter.compile(BPF, List.of("udp", "and", "port", "53")).dump();
        assertEquals("(000) mov %r6, %r1", d.get(0));
        assertTrue(d.stream().anyMatch(l -> l.matches(".*j(ne|eq) %r\\d, 17,.*")), String.join("\n", d));
        assertTrue(d.get(d.size() - 1).endsWith("exit"));
        assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, List.of("port", "99999")));
        assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, List.of("host")));
        assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, List.of("(", "tcp")));
        assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, List.of("bogus")));
        // the fuzzer's find: a range without its end was a StringIndexOutOfBoundsException out of the parser
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpfFilter.compile(BPF, List.of("portrange", "3-")));
        assertEquals("unknown port ''", e.getMessage());
    }
}
