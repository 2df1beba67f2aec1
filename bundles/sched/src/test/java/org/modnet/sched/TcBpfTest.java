package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.drivers.veth.VethDriver;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/** {@code tc filter ... bpf da obj FILE sec tc}: clang-built SEC("tc") programs at the ingress and egress hooks. */
class TcBpfTest {
    private final SchedRig rig;
    private final ClsBpfObjects loader;
    /** IPv4 frames that reached vb's stack: their TOS and whether their header checksum held. */
    private final List<int[]> received = new ArrayList<>();

    TcBpfTest() throws Exception {
        Assumptions.assumeTrue(clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        rig = new SchedRig();
        loader = new ClsBpfObjects(rig.core.core(), new BpfSyscallImpl());
        rig.tc.setBpf(loader);
        rig.core.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            if (dev == rig.vb) {
                received.add(new int[] { skb.getDataU8(1), InetChecksum.verify(skb, skb.data(), 20) ? 1 : 0, skb.getDataU8(9) });
            }
            skb.free();
        });
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    static boolean clang() {
        return java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
    }

    /** Builds {@code src/test/resources/bpf/NAME.c} with clang and {@code defines} (-D...) into target/. */
    static String build(String name, String... defines) throws Exception {
        Path src = Path.of("src/test/resources/bpf", name + ".c").toAbsolutePath();
        Path out = Path.of("target", name + String.join("", defines).replaceAll("[^A-Za-z0-9]", "_") + ".o").toAbsolutePath();
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        List<String> cmd = new ArrayList<>(List.of("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu"));
        cmd.addAll(List.of(defines));
        cmd.addAll(List.of("-c", src.toString(), "-o", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "clang failed:\n" + log);
        return out.toString();
    }

    /** An Ethernet + IPv4 frame va -> vb, protocol {@code proto}, with a correct header checksum. */
    SkBuff ip(int proto) {
        int size = 14 + 20 + 8 + 22;
        SkBuff skb = rig.core.core().pool().alloc(size + 64, 64);
        int off = skb.put(size);
        MacAddress to = rig.vb.address();
        MacAddress from = rig.va.address();
        skb.setU16(off, (int) (to.bits() >>> 32));
        skb.setU32(off + 2, (int) to.bits());
        skb.setU16(off + 6, (int) (from.bits() >>> 32));
        skb.setU32(off + 8, (int) from.bits());
        skb.setU16(off + 12, Eth.ETH_P_IP);
        int nh = off + 14;
        skb.setU8(nh, 0x45);
        skb.setU8(nh + 1, 0);
        skb.setU16(nh + 2, size - 14);
        skb.setU32(nh + 4, 0);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, proto);
        skb.setU16(nh + 10, 0);
        skb.setU32(nh + 12, 0x0a000001);
        skb.setU32(nh + 16, 0x0a000002);
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, 20));
        skb.protocol(Eth.ETH_P_IP);
        skb.dev(rig.va);
        return skb;
    }

    void send(int proto, int times) {
        for (int i = 0; i < times; i++) {
            rig.core.core().devQueueXmit(ip(proto));
        }
        rig.advanceMillis(1);
    }

    @Test
    void aProgramAtIngressDropsIcmpAndPassesTheRest() throws Exception {
        String obj = build("tc_drop_icmp");
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress bpf da obj " + obj + " sec tc");
        send(1, 3);
        send(17, 2);
        assertEquals(2, received.size());
        assertTrue(received.stream().allMatch(r -> r[2] == 17));
        List<String> show = rig.tc("-s qdisc show dev vb");
        assertTrue(show.contains(" Sent " + 5 * 50 + " bytes 5 pkt (dropped 3, overlimits 0 requeues 0) "), show.toString());
        String line = rig.tc("filter show dev vb ingress").get(1);
        assertTrue(line.startsWith("filter protocol all pref 49152 bpf chain 0 handle 0x1 " + Path.of(obj).getFileName()
                + ":[tc] direct-action not_in_hw id "), line);
        assertTrue(line.contains(" name tc_drop_icmp tag ") && line.endsWith(" jited"), line);
    }

    /** Sends {@code udp} UDP and {@code icmp} ICMP frames through a prio root 1: whose children 10: 20: 30: are pfifos; returns their Sent packets. */
    private long[] bandsAfter(int udp, int icmp) {
        send(17, udp);
        send(1, icmp);
        long[] sent = new long[3];
        List<String> q = rig.tc("-s qdisc show dev va");
        for (int band = 1; band <= 3; band++) {
            int i = q.indexOf("qdisc pfifo " + band + "0: parent 1:" + band + " limit 1000p");
            assertTrue(i > 0, q.toString());
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(" Sent \\d+ bytes (\\d+) pkt").matcher(q.get(i + 1));
            assertTrue(m.find(), q.get(i + 1));
            sent[band - 1] = Long.parseLong(m.group(1));
        }
        return sent;
    }

    private void prioWithThreeFifos() {
        rig.tc("qdisc add dev va root handle 1: prio");
        for (int band = 1; band <= 3; band++) {
            rig.tc("qdisc add dev va parent 1:" + band + " handle " + band + "0: pfifo");
        }
    }

    @Test
    void aDirectActionProgramsTcClassidChoosesThePrioBand() throws Exception {
        String obj = build("tc_classid", "-DDA", "-DCLASSID=0x10003");
        prioWithThreeFifos();
        rig.tc("filter add dev va parent 1: bpf da obj " + obj + " sec tc classid 1:2");
        // UDP: the program's 1:3; ICMP: the filter's own 1:2 (tc_classid starts as it)
        assertArrayEquals(new long[] { 0, 2, 3 }, bandsAfter(3, 2));
        assertEquals(5, received.size());
    }

    @Test
    void withoutDirectActionTheProgramsReturnValueIsTheClass() throws Exception {
        String obj = build("tc_classid", "-DCLASSID=0x10001");
        prioWithThreeFifos();
        rig.tc("filter add dev va parent 1: bpf obj " + obj + " sec tc");
        // UDP: returned 1:1; ICMP: 0, not the filter's frame, so the priomap's band for priority 0 (1:2)
        assertArrayEquals(new long[] { 4, 1, 0 }, bandsAfter(4, 1));
    }

    @Test
    void aProgramAtEgressRewritesTheTosAndFixesTheChecksum() throws Exception {
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf obj " + build("tc_set_tos") + " section tc direct-action");
        send(1, 2);
        assertEquals(2, received.size());
        for (int[] r : received) {
            assertEquals(0x20, r[0], "the TOS was rewritten");
            assertEquals(1, r[1], "the header checksum holds");
        }
    }

    @Test
    void withoutTheChecksumFixTheReceiverSeesABadChecksum() throws Exception {
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf da obj " + build("tc_set_tos", "-DNO_CSUM_FIX") + " sec tc");
        send(1, 1);
        assertEquals(0x20, received.get(0)[0]);
        assertEquals(0, received.get(0)[1], "what l3_csum_replace is for");
    }

    private NetDevice[] second() throws Exception {
        NetDevice vc = new VethDriver().create(rig.core.core().initNet(), "vc", List.of("peer", "name", "vd"));
        NetDevice vd = rig.core.core().initNet().device("vd");
        vc.open();
        vd.open();
        rig.tc("qdisc add dev vd clsact");
        rig.tc("filter add dev vd ingress matchall action drop"); // counts what arrives on vd
        return new NetDevice[] { vc, vd };
    }

    private long arrivedOnVd() {
        List<String> s = rig.tc("-s filter show dev vd ingress");
        String sent = s.stream().filter(l -> l.startsWith("\tSent ")).findFirst().orElseThrow();
        return Long.parseLong(sent.split(" ")[3]);
    }

    @Test
    void bpfRedirectAtIngressSendsTheFrameOutOfAnotherDevice() throws Exception {
        NetDevice[] cd = second();
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress bpf da obj " + build("tc_redirect", "-DTARGET_IFINDEX=" + cd[0].ifindex()) + " sec tc");
        send(1, 4);
        assertEquals(0, received.size());
        assertEquals(4, arrivedOnVd());
    }

    @Test
    void bpfRedirectAtEgressSendsTheFrameOutOfAnotherDevice() throws Exception {
        NetDevice[] cd = second();
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf da obj " + build("tc_redirect", "-DTARGET_IFINDEX=" + cd[0].ifindex()) + " sec tc");
        send(1, 3);
        assertEquals(0, received.size());
        assertEquals(3, arrivedOnVd());
    }

    @Test
    void bpfRedirectWithIngressFlagDeliversIntoTheTarget() throws Exception {
        NetDevice[] cd = second();
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf da obj " + build("tc_redirect", "-DTARGET_IFINDEX=" + cd[1].ifindex(), "-DREDIRECT_FLAGS=1")
                + " sec tc");
        send(1, 2);
        assertEquals(0, received.size());
        assertEquals(2, arrivedOnVd(), "into vd's receive path, through its ingress hook");
    }

    @Test
    void bpfCloneRedirectSendsACopyAndTheFramePasses() throws Exception {
        NetDevice[] cd = second();
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf da obj " + build("tc_redirect", "-DTARGET_IFINDEX=" + cd[0].ifindex(), "-DCLONE") + " sec tc");
        send(1, 2);
        assertEquals(2, received.size());
        assertEquals(2, arrivedOnVd());
    }

    @Test
    void aProgramTheVerifierRefusesAttachesNothingAndItsLogIsPrinted() throws Exception {
        rig.tc("qdisc add dev vb clsact");
        String obj = build("tc_unchecked");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("filter add dev vb ingress bpf da obj " + obj + " sec tc"));
        assertTrue(e.getMessage().contains("Verifier analysis:"), e.getMessage());
        assertTrue(e.getMessage().contains("invalid access to packet"), e.getMessage());
        assertTrue(e.getMessage().endsWith("Unable to load program"), e.getMessage());
        assertEquals(List.of(), rig.tc("filter show dev vb ingress"));
        send(1, 1);
        assertEquals(1, received.size());
    }

    @Test
    void withoutTheEbpfLayerTcHasNoBpfClassifier() {
        rig.tc.unsetBpf(loader);
        rig.tc("qdisc add dev vb clsact");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("filter add dev vb ingress bpf da obj x.o sec tc"));
        assertTrue(e.getMessage().startsWith("Error: TC classifier not found."), e.getMessage());
    }

    @Test
    void cloneRedirectsNestedInARunEndAtTheNestLimitEachWithItsOwnContext() throws Exception {
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf da obj " + build("tc_redirect", "-DTARGET_IFINDEX=" + rig.va.ifindex(), "-DCLONE") + " sec tc");
        send(1, 1);
        assertEquals(5, received.size(), "the frame and four clones: a fifth level is past MIRRED_NEST_LIMIT (and past the pool of 4)");
        assertTrue(received.stream().allMatch(r -> r[1] == 1), "no run disturbed another's frame");
    }

    /** The one's complement sum of the UDP pseudo-header of the IPv4 header at {@code nh} and {@code udpLen}. */
    private static long pseudo(SkBuff skb, int nh, int udpLen) {
        return InetChecksum.sum(skb, nh + 12, 8, 0) + 17 + udpLen;
    }

    private static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    /** A UDP datagram 10.0.0.1:5000 -> 10.0.0.2:7, its checksum complete or left to the device (CHECKSUM_PARTIAL). */
    SkBuff udp(boolean partial) {
        SkBuff skb = ip(17);
        int nh = skb.data() + 14;
        int uh = nh + 20;
        int len = skb.len() - 34;
        skb.setU16(uh, 5000);
        skb.setU16(uh + 2, 7);
        skb.setU16(uh + 4, len);
        for (int i = 8; i < len; i++) {
            skb.setU8(uh + i, i * 7);
        }
        skb.setU16(uh + 6, 0);
        if (partial) {
            skb.setU16(uh + 6, fold(pseudo(skb, nh, len)));
            skb.csumPartial(uh, 6);
        } else {
            int c = ~fold(pseudo(skb, nh, len) + InetChecksum.sum(skb, uh, len, 0)) & 0xffff;
            skb.setU16(uh + 6, c == 0 ? 0xffff : c);
        }
        return skb;
    }

    @Test
    void l4CsumReplaceFixesAPortAndAnAddressRewriteWhetherTheChecksumIsCompleteOrPartial() throws Exception {
        List<long[]> got = new ArrayList<>();
        rig.core.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            if (dev == rig.vb && skb.getDataU8(9) == 17) {
                assertTrue(InetChecksum.complete(skb), "a partial checksum is completed as a device would");
                int nh = skb.data();
                int len = skb.len() - 20;
                got.add(new long[] { skb.getDataU16(22), skb.getDataU32(12) & 0xffff_ffffL,
                        fold(pseudo(skb, nh, len) + InetChecksum.sum(skb, nh + 20, len, 0)), InetChecksum.verify(skb, nh, 20) ? 1 : 0 });
            }
            skb.free();
        });
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress bpf da obj " + build("tc_set_port", "-DNEW_PORT=9", "-DNEW_SADDR=0x0a000063") + " sec tc");
        rig.core.core().devQueueXmit(udp(false));
        rig.core.core().devQueueXmit(udp(true));
        rig.advanceMillis(1);
        assertEquals(2, got.size());
        for (long[] g : got) {
            assertEquals(9, g[0], "the port was rewritten");
            assertEquals(0x0a000063L, g[1], "the source address was rewritten");
            assertEquals(0xffff, g[2], "the UDP checksum holds over the new pseudo-header and port");
            assertEquals(1, g[3], "and the IP header's");
        }
    }

    @Test
    void aProgramSetsTheMarkAndPriorityOfTheFrame() throws Exception {
        int[] seen = new int[2];
        rig.core.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            seen[0] = skb.mark();
            seen[1] = skb.priority();
            skb.free();
        });
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress bpf da obj " + build("tc_set_mark") + " sec tc");
        send(1, 1);
        assertEquals(42, seen[0], "skb->mark = 42 reached the stack");
        assertEquals(6, seen[1]);
    }
}
