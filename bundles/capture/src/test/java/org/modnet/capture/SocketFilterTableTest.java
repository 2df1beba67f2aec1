package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.SkFilterContext;

/**
 * tcpdump's filters as socket filters: the pcap-filter table's expressions compiled to classic BPF
 * ({@code tcpdump -d}'s program), attached the way {@code SO_ATTACH_FILTER} attaches it — checked and
 * translated to eBPF by the eBPF layer, run on each frame as a packet socket's filter sees it, from the
 * link-layer header on — keep exactly the frames the expression keeps; and Linux's own tcpdump's
 * programs, where it is installed, run through the same translation give Linux's verdicts.
 */
class SocketFilterTableTest {
    private static final BpfSyscall BPF = BpfFilterTest.BPF;

    private static boolean keeps(SkFilterContext ctx, byte[] frame) {
        ctx.fields(frame.length, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0);
        ctx.packet(MemorySegment.ofArray(frame), 0, 14, 0, frame.length);
        return ctx.filter() != 0;
    }

    @Test
    void everyTableExpressionsClassicProgramKeepsWhatTheExpressionSaysAsASocketFilter() throws Exception {
        List<byte[]> frames = PcapFilterTableTest.corpus();
        List<String> wrong = new ArrayList<>();
        int expressions = 0;
        for (String e : PcapFilterTableTest.ACCEPTED) {
            long[] classic = BpfFilter.compile(BPF, PcapFilterTableTest.words(e)).classic();
            java.util.function.Predicate<Frame> interpreted = Filter.parse(PcapFilterTableTest.words(e));
            try (BpfProg p = BPF.progLoadClassic("tcpdump", classic, BpfSyscall.INTERPRETER)) {
                SkFilterContext ctx = p.skFilterContext(0);
                for (int i = 0; i < frames.size(); i++) {
                    boolean want = interpreted.test(new Frame(frames.get(i)));
                    if (keeps(ctx, frames.get(i)) != want) {
                        wrong.add("\"" + e + "\" on frame " + i + ": expression " + want);
                    }
                }
            }
            expressions++;
        }
        assertEquals(List.of(), wrong);
        assertTrue(expressions >= 15, expressions + " expressions");
    }

    @Test
    void classicProgramKeepsSnaplenAndTheJitAgrees() throws Exception {
        long[] classic = BpfFilter.compile(BPF, PcapFilterTableTest.words("udp dst port 53")).classic();
        try (BpfProg p = BPF.progLoadClassic("tcpdump", classic, BpfSyscall.JIT)) {
            assertTrue(p.jited());
            SkFilterContext ctx = p.skFilterContext(0);
            byte[] dns = PcapFilterTableTest.v4(PcapFilterTableTest.MAC_A, 17, PcapFilterTableTest.A, PcapFilterTableTest.B,
                    PcapFilterTableTest.udp(40000, 53, 10));
            byte[] other = PcapFilterTableTest.v4(PcapFilterTableTest.MAC_A, 17, PcapFilterTableTest.A, PcapFilterTableTest.B,
                    PcapFilterTableTest.udp(40000, 54, 10));
            ctx.fields(dns.length, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0);
            ctx.packet(MemorySegment.ofArray(dns), 0, 14, 0, dns.length);
            assertEquals(ClassicCode.SNAPLEN, ctx.filter(), "a kept frame: tcpdump's snapshot length");
            assertTrue(!keeps(ctx, other));
        }
    }

    @Test
    void linuxTcpdumpsOwnProgramsRunAsSocketFiltersGiveLinuxsVerdicts() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/tcpdump")), "tcpdump is not installed");
        List<byte[]> frames = PcapFilterTableTest.corpus();
        List<String> wrong = new ArrayList<>();
        for (String e : PcapFilterTableTest.ACCEPTED) {
            if (!(PcapFilterTableTest.linux(e) instanceof List<?> l)) {
                continue; // the table test reports tcpdump's refusals
            }
            @SuppressWarnings("unchecked")
            List<long[]> prog = (List<long[]>) l;
            long[] insns = new long[prog.size()];
            for (int i = 0; i < insns.length; i++) {
                long[] in = prog.get(i);
                insns[i] = in[0] | in[1] << 16 | in[2] << 24 | (in[3] & 0xffffffffL) << 32;
            }
            try (BpfProg p = BPF.progLoadClassic("tcpdump", insns, BpfSyscall.INTERPRETER)) {
                SkFilterContext ctx = p.skFilterContext(0);
                for (int i = 0; i < frames.size(); i++) {
                    if (keeps(ctx, frames.get(i)) != PcapFilterTableTest.cbpf(prog, frames.get(i))) {
                        wrong.add("\"" + e + "\" on frame " + i);
                    }
                }
            }
        }
        assertEquals(List.of(), wrong);
    }
}
