package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/** {@code tc qdisc add ... clsact} and {@code tc filter}: the hooks, the classifiers, the actions, tc's lines and words. */
class TcFilterTest {
    static final int ICMP = 1;
    static final int TCP = 6;
    static final int UDP = 17;

    private final SchedRig rig;
    /** IPv4 frames that reached vb's stack, by their last address byte of the destination. */
    private final long[] ipReceivedByDst = new long[256];

    TcFilterTest() throws Exception {
        rig = new SchedRig();
        rig.core.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            if (dev == rig.vb) {
                ipReceivedByDst[skb.getDataU8(19)]++;
            }
            skb.free();
        });
    }

    @AfterEach
    void close() {
        rig.close();
    }

    /** An Ethernet + IPv4 frame va -> vb: protocol, 10.0.0.1 -> 10.0.0.{dst}, and 8 bytes of L4 with the ports. */
    SkBuff ip(int proto, int dst, int sport, int dport) {
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
        skb.setU32(nh + 16, 0x0a000000 | dst);
        skb.setU16(nh + 20, sport);
        skb.setU16(nh + 22, dport);
        skb.protocol(Eth.ETH_P_IP);
        skb.dev(rig.va);
        return skb;
    }

    void send(int proto, int dst, int sport, int dport, int times) {
        for (int i = 0; i < times; i++) {
            rig.core.core().devQueueXmit(ip(proto, dst, sport, dport));
        }
        rig.advanceMillis(1);
    }

    private void fails(String line, String words, int status) {
        List<String> before = rig.tc("filter show dev vb ingress");
        List<String> qdiscs = rig.tc("qdisc show");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc(line));
        assertEquals(words, e.getMessage());
        assertEquals(status, e.status());
        assertEquals(before, rig.tc("filter show dev vb ingress"), "a refused command changes no filter");
        assertEquals(qdiscs, rig.tc("qdisc show"), "a refused command changes no qdisc");
    }

    @Test
    void clsactIsShownAfterTheRootQdiscAndGoesAgain() {
        rig.tc("qdisc add dev vb clsact");
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 ", "qdisc clsact ffff: parent ffff:fff1 "), rig.tc("qdisc show dev vb"));
        assertTrue(rig.tc("qdisc show").contains("qdisc clsact ffff: dev vb parent ffff:fff1 "));
        rig.tc("qdisc del dev vb clsact");
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev vb"));
        assertEquals(null, rig.core.qdiscHook().tcHook(rig.vb, true), "the hook is off the receive path");
    }

    @Test
    void theIngressQdiscPrintsItsDashes() {
        rig.tc("qdisc add dev vb ingress");
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 ", "qdisc ingress ffff: parent ffff:fff1 ---------------- "),
                rig.tc("qdisc show dev vb"));
        assertEquals(null, rig.core.qdiscHook().tcHook(rig.vb, false), "ingress has no egress hook");
    }

    @Test
    void u32DropAtIngressDropsExactlyWhatItMatchesAndCountsIt() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress protocol ip u32 match ip dst 10.0.0.2/32 action drop");
        send(ICMP, 2, 0, 0, 5);
        send(ICMP, 3, 0, 0, 7);
        assertEquals(0, ipReceivedByDst[2]);
        assertEquals(7, ipReceivedByDst[3]);
        int len = 64;
        assertEquals(List.of(
                "filter protocol ip pref 49152 u32 chain 0 ",
                "filter protocol ip pref 49152 u32 chain 0 fh 800: ht divisor 1 ",
                "filter protocol ip pref 49152 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 terminal flowid not_in_hw  (rule hit 12 success 5)",
                "  match 0a000002/ffffffff at 16 (success 5 ) ",
                "\taction order 1: gact action drop",
                "\t random type none pass val 0",
                "\t index 1 ref 1 bind 1",
                "\tAction statistics:",
                "\tSent " + 5 * (len - 14) + " bytes 5 pkt (dropped 5, overlimits 0 requeues 0) ",
                "\tbacklog 0b 0p requeues 0 ",
                ""), rig.tc("-s filter show dev vb ingress"));
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 ", " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) ",
                " backlog 0b 0p requeues 0", "qdisc clsact ffff: parent ffff:fff1 ",
                " Sent " + 12 * (len - 14) + " bytes 12 pkt (dropped 5, overlimits 0 requeues 0) ", " backlog 0b 0p requeues 0 "),
                rig.tc("-s qdisc show dev vb"));
    }

    @Test
    void u32MergesKeysAtOneOffsetAsIproute2PacksThem() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress protocol ip prio 10 u32 match ip protocol 17 0xff match ip sport 53 0xffff match ip dport 99 0xffff action drop");
        List<String> lines = rig.tc("filter show dev vb ingress");
        assertEquals("  match 00110000/00ff0000 at 8", lines.get(3));
        assertEquals("  match 00350063/ffffffff at 20", lines.get(4));
        send(UDP, 2, 53, 99, 3);
        send(UDP, 2, 53, 98, 2);
        send(TCP, 2, 53, 99, 4);
        assertEquals(6, ipReceivedByDst[2], "only udp 53 -> 99 is dropped");
    }

    @Test
    void matchallAtEgressDropsEverythingAndTheSenderHearsIt() {
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress matchall action drop");
        assertEquals(1, rig.core.core().devQueueXmitStatus(ip(ICMP, 2, 0, 0)), "NET_XMIT_DROP");
        rig.advanceMillis(1);
        assertEquals(0, ipReceivedByDst[2]);
        assertEquals(List.of("filter protocol all pref 49152 matchall chain 0 ",
                "filter protocol all pref 49152 matchall chain 0 handle 0x1 ", "  not_in_hw",
                "\taction order 1: gact action drop", "\t random type none pass val 0", "\t index 1 ref 1 bind 1", ""),
                rig.tc("filter show dev va egress"));
        assertEquals(List.of(), rig.tc("filter show dev va ingress"));
    }

    @Test
    void filtersRunInPreferenceOrderAndContinueAsksTheNext() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress pref 20 protocol ip u32 match ip dst 10.0.0.2/32 action drop");
        rig.tc("filter add dev vb ingress pref 10 protocol ip u32 match ip dst 10.0.0.0/24 action pass");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(3, ipReceivedByDst[2], "pref 10 says pass first");
        rig.tc("filter replace dev vb ingress pref 10 handle 800::800 protocol ip u32 match ip dst 10.0.0.0/24 action continue");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(3, ipReceivedByDst[2], "continue: pref 20 drops them");
        rig.tc("filter del dev vb ingress pref 20");
        send(ICMP, 2, 0, 0, 1);
        assertEquals(4, ipReceivedByDst[2]);
        rig.tc("filter del dev vb ingress");
        assertEquals(List.of(), rig.tc("filter show dev vb ingress"));
    }

    @Test
    void autoPreferencesCountDownFrom49152() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress matchall action pass");
        rig.tc("filter add dev vb ingress protocol ip matchall action pass");
        List<String> lines = rig.tc("filter show dev vb ingress");
        assertEquals("filter protocol ip pref 49151 matchall chain 0 ", lines.get(0));
        assertTrue(lines.contains("filter protocol all pref 49152 matchall chain 0 "));
    }

    @Test
    void refusesBadFilterCommandsInTcsWordsAndChangesNothing() {
        fails("filter add dev vb ingress matchall action drop", "Error: Parent Qdisc doesn't exists.\nWe have an error talking to the kernel", 2);
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress pref 5 protocol ip u32 match ip dst 10.0.0.2/32 action drop");
        fails("filter add dev vb ingress pref 5 protocol ip matchall action drop",
                "Error: Specified filter kind does not match existing one, use a different priority.\nWe have an error talking to the kernel", 2);
        fails("filter add dev vb ingress pref 5 handle 800::800 protocol ip u32 match ip dst 10.0.0.3/32 action drop",
                "RTNETLINK answers: File exists\nWe have an error talking to the kernel", 2);
        fails("filter del dev vb ingress pref 6", "Error: Filter with specified priority/protocol not found.\nWe have an error talking to the kernel", 2);
        fails("filter add dev vb ingress protocol ip u32 match ip dst 10.0.0.300/32 action drop", "Illegal \"match\"", 1);
        fails("filter add dev vb ingress protocol ip u32 match ip protocol 1 0xff match ip protocol 6 0xff", "Illegal \"match\"", 1);
        fails("filter add dev vb ingress protocol ip u32 match ip dst 10.0.0.2/32 action frobnicate",
                "bad action type frobnicate\n" + ActApi.ACTION_USAGE, 1);
        fails("filter add dev vb ingress protocol nonsense matchall", "Illegal \"protocol\"", 1);
        fails("filter add dev vb ingress prio x matchall", "Illegal \"priority\"", 1);
        fails("filter add dev nodev ingress matchall", "Cannot find device \"nodev\"", 1);
        fails("filter add dev vb ingress foo bar", "Unknown filter \"foo\", hence option \"bar\" is unparsable", 1);
        fails("qdisc add dev vb clsact", "Error: Exclusivity flag on, cannot modify.", 2);
        fails("qdisc del dev va clsact", "Error: Cannot find specified qdisc on specified device.", 2);
        fails("qdisc del dev vb ingress", "Error: Invalid qdisc name.", 2);
        fails("filter add dev vb ingress protocol all flower ip_proto tcp action drop",
                "Illegal \"eth_type\" for ip proto\nIllegal \"ip_proto\"", 1);
        fails("filter add dev vb ingress protocol ip flower ip_proto icmp dst_port 80 action drop", "Illegal \"dst_port\"", 1);
        fails("filter add dev vb ingress matchall action police burst 10k", "\"burst\" requires \"rate\".", 1);
        fails("filter add dev vb ingress matchall action police rate 0 burst 10k", "Illegal \"rate\"", 1);
    }

    @Test
    void removingClsactTakesItsFiltersOffThePath() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress matchall action drop");
        send(ICMP, 2, 0, 0, 2);
        rig.tc("qdisc del dev vb clsact");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(3, ipReceivedByDst[2]);
        rig.tc("qdisc add dev vb clsact");
        assertEquals(List.of(), rig.tc("filter show dev vb ingress"), "a new clsact starts empty");
    }

    @Test
    void stoppingTheLayerTakesTheHooksOff() {
        rig.tc("qdisc add dev va clsact");
        rig.tc.deactivate();
        assertEquals(null, rig.core.qdiscHook().tcHook(rig.va, true));
        assertEquals(null, rig.core.qdiscHook().tcHook(rig.va, false));
    }

    // --- flower ---

    @Test
    void flowerDropsTheFlowItNamesOnly() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress protocol ip flower ip_proto tcp dst_ip 10.0.0.2 dst_port 80 skip_hw action drop");
        send(TCP, 2, 1234, 80, 4);
        send(TCP, 2, 1234, 81, 2);
        send(UDP, 2, 1234, 80, 3);
        send(TCP, 3, 1234, 80, 1);
        assertEquals(5, ipReceivedByDst[2]);
        assertEquals(1, ipReceivedByDst[3]);
        assertEquals(List.of("filter protocol ip pref 49152 flower chain 0 ",
                "filter protocol ip pref 49152 flower chain 0 handle 0x1 ", "  eth_type ipv4", "  ip_proto tcp",
                "  dst_ip 10.0.0.2", "  dst_port 80", "  skip_hw", "  not_in_hw", "\taction order 1: gact action drop",
                "\t random type none pass val 0", "\t index 1 ref 1 bind 1", ""), rig.tc("filter show dev vb ingress"));
    }

    @Test
    void flowerMatchesMacAddressesAndPrefixes() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress protocol ip flower src_mac " + rig.va.address() + " dst_ip 10.0.0.0/30 action drop");
        send(ICMP, 2, 0, 0, 2);
        send(ICMP, 5, 0, 0, 3);
        assertEquals(0, ipReceivedByDst[2]);
        assertEquals(3, ipReceivedByDst[5]);
        assertTrue(rig.tc("filter show dev vb ingress").contains("  dst_ip 10.0.0.0/30"));
    }

    // --- mirred ---

    @Test
    void mirredRedirectsAtIngressOutOfAnotherDevice() throws Exception {
        NetDevice vc = new org.modnet.drivers.veth.VethDriver().create(rig.core.core().initNet(), "vc", List.of("peer", "name", "vd"));
        NetDevice vd = rig.core.core().initNet().device("vd");
        vc.open();
        vd.open();
        rig.core.addHandler(Eth.ETH_P_ARP, (skb, dev) -> skb.free());
        rig.tc("qdisc add dev vd clsact");
        rig.tc("filter add dev vd ingress matchall action drop"); // counts what arrives on vd, then drops it
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress protocol ip u32 match ip dst 10.0.0.2/32 action mirred egress redirect dev vc");
        send(ICMP, 2, 0, 0, 4);
        send(ICMP, 3, 0, 0, 1);
        assertEquals(0, ipReceivedByDst[2], "redirected away from vb's stack");
        assertEquals(1, ipReceivedByDst[3]);
        List<String> vdStats = rig.tc("-s filter show dev vd ingress");
        assertTrue(vdStats.contains("\tSent " + 4 * 50 + " bytes 4 pkt (dropped 4, overlimits 0 requeues 0) "), vdStats.toString());
        List<String> lines = rig.tc("filter show dev vb ingress");
        assertTrue(lines.contains("\taction order 1: mirred (Egress Redirect to device vc) stolen"), lines.toString());
        assertTrue(lines.contains(" \tindex 1 ref 1 bind 1"));
    }

    @Test
    void mirredMirrorSendsACopyAndTheFrameGoesOn() throws Exception {
        NetDevice vc = new org.modnet.drivers.veth.VethDriver().create(rig.core.core().initNet(), "vc", List.of("peer", "name", "vd"));
        rig.core.core().initNet().device("vd").open();
        vc.open();
        rig.tc("qdisc add dev vd clsact");
        rig.tc("filter add dev vd ingress matchall action drop");
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress matchall action mirred egress mirror dev vc");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(3, ipReceivedByDst[2], "the original still reaches vb");
        assertTrue(rig.tc("-s filter show dev vd ingress").contains("\tSent " + 3 * 50 + " bytes 3 pkt (dropped 3, overlimits 0 requeues 0) "));
    }

    @Test
    void mirredToADeviceThatIsDownIsAnOverlimitAndTheRedirectedFrameIsDropped() throws Exception {
        new org.modnet.drivers.veth.VethDriver().create(rig.core.core().initNet(), "vc", List.of("peer", "name", "vd"));
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress matchall action mirred egress redirect dev vc");
        send(ICMP, 2, 0, 0, 2);
        assertEquals(0, ipReceivedByDst[2]);
        assertTrue(rig.tc("-s filter show dev vb ingress").contains("\tSent " + 2 * 50 + " bytes 2 pkt (dropped 0, overlimits 2 requeues 0) "));
        assertTrue(rig.tc("-s qdisc show dev vb").contains(" Sent " + 2 * 50 + " bytes 2 pkt (dropped 2, overlimits 0 requeues 0) "),
                "the hook dropped and counted what mirred could not send");
    }

    @Test
    void mirredLoopsEndAtTheNestLimit() {
        rig.tc("qdisc add dev va clsact");
        rig.tc("filter add dev va egress matchall action mirred egress redirect dev va");
        send(ICMP, 2, 0, 0, 1);
        List<String> s = rig.tc("-s filter show dev va egress");
        // the fifth call is past the limit (an overlimit, shot); the fourth's dev_queue_xmit answers that drop: another
        assertTrue(s.contains("\tSent " + 5 * 64 + " bytes 5 pkt (dropped 0, overlimits 2 requeues 0) "), s.toString());
        assertTrue(rig.tc("-s qdisc show dev va").contains(" Sent " + 5 * 64 + " bytes 5 pkt (dropped 1, overlimits 0 requeues 0) "));
    }

    @Test
    void mirredFromAPrioRootBackIntoItsOwnDeviceIsDroppedAndCountedNotReentered() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("filter add dev va parent 1: matchall action mirred egress redirect dev va");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(0, ipReceivedByDst[2]);
        List<String> f = rig.tc("-s filter show dev va");
        assertTrue(f.contains("\tSent " + 3 * 64 + " bytes 3 pkt (dropped 0, overlimits 3 requeues 0) "), f.toString());
        assertEquals(3, rig.va.stats().get(DeviceStats.Field.TX_DROPPED), "q->owner: the frame sent back into the running qdisc");
        assertEquals(0, rig.qdisc().qlen());
    }

    @Test
    void mirredBetweenTwoPrioRootsEndsAtTheRecursionLimit() throws Exception {
        NetDevice vc = twoPrioRootsRedirectingToEachOther();
        send(ICMP, 2, 0, 0, 1);
        assertEquals(0, ipReceivedByDst[2]);
        // va at rounds 0, 2, 4, 6, 8; vc at 1, 3, 5, 7; the ninth send is refused
        assertTrue(rig.tc("-s filter show dev va").contains("\tSent " + 5 * 64 + " bytes 5 pkt (dropped 0, overlimits 1 requeues 0) "),
                rig.tc("-s filter show dev va").toString());
        assertTrue(rig.tc("-s filter show dev vc").contains("\tSent " + 4 * 64 + " bytes 4 pkt (dropped 0, overlimits 0 requeues 0) "));
        assertEquals(1, vc.stats().get(DeviceStats.Field.TX_DROPPED));
    }

    @Test
    void twoThreadsRedirectingBetweenTwoPrioRootsCannotDeadlock() throws Exception {
        NetDevice vc = twoPrioRootsRedirectingToEachOther();
        int n = 2000;
        Thread[] senders = new Thread[2];
        for (int t = 0; t < 2; t++) {
            NetDevice from = t == 0 ? rig.va : vc;
            senders[t] = new Thread(() -> {
                for (int i = 0; i < n; i++) {
                    SkBuff skb = ip(ICMP, 2, 0, 0);
                    skb.dev(from);
                    rig.core.core().devQueueXmit(skb);
                }
            });
            senders[t].start();
        }
        for (Thread t : senders) {
            t.join(120_000);
            assertTrue(!t.isAlive(), "a sender is stuck: the two qdisc locks were taken crosswise");
        }
        assertEquals(2 * n, rig.va.stats().get(DeviceStats.Field.TX_DROPPED) + vc.stats().get(DeviceStats.Field.TX_DROPPED),
                "every frame ended in one counted drop");
    }

    private NetDevice twoPrioRootsRedirectingToEachOther() throws Exception {
        new org.modnet.drivers.veth.VethDriver().create(rig.core.core().initNet(), "vc", List.of("peer", "name", "vd"));
        NetDevice vc = rig.core.core().initNet().device("vc");
        vc.open();
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("qdisc add dev vc root handle 1: prio");
        rig.tc("filter add dev va parent 1: matchall action mirred egress redirect dev vc");
        rig.tc("filter add dev vc parent 1: matchall action mirred egress redirect dev va");
        return vc;
    }

    // --- chains ---

    @Test
    void gotoChainGoesOnAtThatChainsFilters() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress chain 0 prio 1 protocol ip matchall action goto chain 5");
        rig.tc("filter add dev vb ingress chain 5 prio 2 protocol ip u32 match ip dst 10.0.0.2/32 action drop");
        send(ICMP, 2, 0, 0, 3);
        send(ICMP, 3, 0, 0, 2);
        assertEquals(0, ipReceivedByDst[2], "chain 5's filter dropped them");
        assertEquals(2, ipReceivedByDst[3], "no match in chain 5: continue, on their way");
        List<String> all = rig.tc("filter show dev vb ingress");
        assertEquals("filter protocol ip pref 1 matchall chain 0 ", all.get(0));
        assertTrue(all.contains("\taction order 1: gact action goto chain 5"), all.toString());
        assertTrue(all.contains("filter protocol ip pref 2 u32 chain 5 "), all.toString());
        List<String> five = rig.tc("filter show dev vb ingress chain 5");
        assertEquals("filter protocol ip pref 2 u32 ", five.get(0), "tc leaves out the chain it was asked for");
        assertTrue(five.stream().noneMatch(l -> l.contains("matchall")), five.toString());
        assertEquals(List.of("chain parent ffff: chain 0 ", "chain parent ffff: chain 5 "), rig.tc("chain show dev vb ingress"));
    }

    @Test
    void chainsAreAddedDeletedAndRefusedInTcsWords() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("chain add dev vb ingress chain 3");
        assertEquals(List.of("chain parent ffff: chain 3 "), rig.tc("chain show dev vb ingress"));
        assertEquals(List.of("chain parent ffff: chain 3 "), rig.tc("chain get dev vb ingress chain 3"));
        assertEquals(List.of(), rig.tc("filter show dev vb ingress chain 3"));
        fails("chain add dev vb ingress chain 3", "Error: Filter chain already exists.\nWe have an error talking to the kernel", 2);
        fails("chain get dev vb ingress chain 77", "Error: Cannot find specified filter chain.\nWe have an error talking to the kernel", 2);
        fails("chain add dev vb ingress chain 268435456", "Error: Specified chain index exceeds upper limit.\nWe have an error talking to the kernel", 2);
        fails("chain add dev vb ingress chain x", "Error: argument \"x\" is wrong: invalid chain index value", 255);
        fails("filter add dev vb ingress chain 268435456 matchall action drop",
                "Error: Specified chain index exceeds upper limit.\nWe have an error talking to the kernel", 2);
        rig.tc("filter add dev vb ingress chain 3 matchall action drop");
        send(ICMP, 2, 0, 0, 2);
        assertEquals(2, ipReceivedByDst[2], "nothing goes to chain 3: its filter never runs");
        rig.tc("chain del dev vb ingress chain 3");
        assertEquals(List.of(), rig.tc("chain show dev vb ingress"));
        assertEquals(List.of(), rig.tc("filter show dev vb ingress"), "its filters went with it");
        fails("chain del dev vb ingress chain 3", "Error: Cannot find specified filter chain.\nWe have an error talking to the kernel", 2);
        rig.tc("filter add dev vb ingress chain 4 matchall action drop");
        rig.tc("filter del dev vb ingress chain 4");
        assertEquals(List.of(), rig.tc("chain show dev vb ingress"), "a chain its filters made goes with its last filter");
    }

    @Test
    void aGotoLoopBetweenChainsIsDroppedAtTheReclassifyLimit() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress chain 0 matchall action goto chain 1");
        rig.tc("filter add dev vb ingress chain 1 matchall action goto chain 0");
        send(ICMP, 2, 0, 0, 1);
        assertEquals(0, ipReceivedByDst[2]);
        assertTrue(rig.tc("-s qdisc show dev vb").contains(" Sent 50 bytes 1 pkt (dropped 1, overlimits 0 requeues 0) "),
                rig.tc("-s qdisc show dev vb").toString());
        List<String> f = rig.tc("-s filter show dev vb ingress chain 0");
        assertTrue(f.contains("\tSent " + 8 * 50 + " bytes 8 pkt (dropped 0, overlimits 0 requeues 0) "), "16 rounds, half of them in chain 0: " + f);
    }

    @Test
    void aPrioRootsChainsListUnderItsHandle() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("filter add dev va parent 1: protocol ip prio 1 matchall action goto chain 2");
        rig.tc("filter add dev va parent 1: chain 2 protocol ip prio 1 u32 match ip dst 10.0.0.3/32 flowid 1:3");
        rig.tc("qdisc add dev va parent 1:3 handle 30: pfifo");
        send(ICMP, 3, 0, 0, 4);
        List<String> q = rig.tc("-s qdisc show dev va");
        int child = q.indexOf("qdisc pfifo 30: parent 1:3 limit 1000p");
        assertEquals(" Sent " + 4 * 64 + " bytes 4 pkt (dropped 0, overlimits 0 requeues 0) ", q.get(child + 1), "chain 2's flowid chose 1:3");
        assertEquals(List.of("chain parent 1: chain 0 ", "chain parent 1: chain 2 "), rig.tc("chain show dev va"));
        assertTrue(rig.tc("filter show dev va").contains("filter parent 1: protocol ip pref 1 u32 chain 2 "));
    }

    // --- shared actions ---

    @Test
    void aSharedPolicerCountsWhatEveryFilterBoundToItSends() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("actions add action police rate 1mbit burst 10k index 1");
        String line = "\taction order 0:  police 0x1 rate 1Mbit burst 10Kb mtu 2Kb action reclassify overhead 0b ";
        assertEquals(List.of("total acts 1", "", line, "\tref 1 bind 0", ""), rig.tc("actions ls action police"));
        rig.tc("filter add dev vb ingress prio 1 protocol ip u32 match ip dst 10.0.0.2/32 action police index 1");
        rig.tc("filter add dev vb ingress prio 2 protocol ip u32 match ip dst 10.0.0.3/32 action police index 1");
        assertEquals(List.of("total acts 1", "", line, "\tref 3 bind 2", ""), rig.tc("actions ls action police"));
        send(ICMP, 2, 0, 0, 3);
        send(ICMP, 3, 0, 0, 2);
        assertEquals(3, ipReceivedByDst[2]);
        assertEquals(2, ipReceivedByDst[3]);
        List<String> get = rig.tc("-s actions get action police index 1");
        assertEquals("total acts 0", get.get(0));
        assertEquals(line.replace("order 0", "order 1"), get.get(2));
        assertTrue(get.contains("\tSent " + 5 * 50 + " bytes 5 pkt (dropped 0, overlimits 0 requeues 0) "), "both filters' frames: " + get);
        List<String> f = rig.tc("filter show dev vb ingress");
        assertTrue(f.contains("\tref 3 bind 2"), f.toString());
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("actions del action police index 1"));
        assertEquals("Error: Failed to delete TC action.\nWe have an error talking to the kernel", e.getMessage());
        rig.tc("filter del dev vb ingress prio 1");
        rig.tc("filter del dev vb ingress prio 2");
        assertEquals("\tref 1 bind 0", rig.tc("actions ls action police").get(3), "the filters let it go; tc actions still holds it");
        rig.tc("actions del action police index 1");
        assertEquals(List.of("total acts 0", ""), rig.tc("actions ls action police"));
    }

    @Test
    void aFiltersOwnActionsAreListedUntilTheFilterGoes() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress matchall action drop");
        assertEquals(List.of("total acts 1", "", "\taction order 0: gact action drop", "\t random type none pass val 0",
                "\t index 1 ref 1 bind 1", ""), rig.tc("actions ls action gact"));
        rig.tc("filter del dev vb ingress");
        assertEquals(List.of("total acts 0", ""), rig.tc("actions ls action gact"));
    }

    @Test
    void refusesBadActionsCommandsInTcsWords() {
        rig.tc("actions add action gact drop index 7");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("actions add action gact pass index 7"));
        assertEquals("RTNETLINK answers: File exists\nWe have an error talking to the kernel", e.getMessage());
        e = assertThrows(CommandException.class, () -> rig.tc("actions get action gact index 8"));
        assertEquals("Error: TC action with specified index not found.\nWe have an error talking to the kernel", e.getMessage());
        e = assertThrows(CommandException.class, () -> rig.tc("actions ls action bogus"));
        assertTrue(e.getMessage().startsWith("bad action type bogus"), e.getMessage());
        rig.tc("actions flush action gact");
        assertEquals(List.of("total acts 0", ""), rig.tc("actions ls action gact"));
    }

    @Test
    void replacingASharedActionChangesWhatItsFiltersDoInPlace() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("actions add action gact drop index 3");
        rig.tc("filter add dev vb ingress matchall action gact drop index 3");
        send(ICMP, 2, 0, 0, 2);
        assertEquals(0, ipReceivedByDst[2]);
        rig.tc("actions replace action gact pass index 3");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(3, ipReceivedByDst[2], "the filter's action now passes");
        List<String> ls = rig.tc("-s actions ls action gact");
        assertEquals(List.of("total acts 1", "", "\taction order 0: gact action pass", "\t random type none pass val 0",
                "\t index 3 ref 2 bind 1"), ls.subList(0, 5), "the same action, its holders kept");
        assertTrue(ls.contains("\tSent " + 5 * 50 + " bytes 5 pkt (dropped 2, overlimits 0 requeues 0) "), "its counters kept: " + ls);
        rig.tc("actions change action gact drop index 3");
        send(ICMP, 2, 0, 0, 1);
        assertEquals(3, ipReceivedByDst[2], "change is replace, as iproute2 sends both with NLM_F_REPLACE");
        rig.tc("actions replace action gact pipe index 9");
        assertEquals("\t index 9 ref 1 bind 0", rig.tc("actions get action gact index 9").get(4), "an index not there is made");
    }

    @Test
    void replacingAPolicerTakesTheNewRateWithAFullBucket() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("actions add action police rate 8kbit burst 1000 conform-exceed drop/ok index 1");
        rig.tc("filter add dev vb ingress matchall action police index 1");
        send(ICMP, 2, 0, 0, 30);
        assertEquals(20, ipReceivedByDst[2]);
        rig.tc("actions replace action police rate 16kbit burst 2000 conform-exceed drop/ok index 1");
        send(ICMP, 2, 0, 0, 50);
        assertEquals(20 + 40, ipReceivedByDst[2], "a full bucket of 2000 bytes: 40 frames of 50");
        assertEquals("\taction order 0:  police 0x1 rate 16Kbit burst 2000b mtu 2Kb action drop overhead 0b ",
                rig.tc("actions ls action police").get(2));
    }

    @Test
    void addingAnActionThatIsThereChangesNothing() {
        rig.tc("actions add action gact drop index 4");
        CommandException e = assertThrows(CommandException.class,
                () -> rig.tc("actions add action gact pass index 5 action gact pass index 4"));
        assertEquals("RTNETLINK answers: File exists\nWe have an error talking to the kernel", e.getMessage());
        assertEquals("total acts 1", rig.tc("actions ls action gact").get(0), "index 5 was not made either");
        assertEquals("\taction order 0: gact action drop", rig.tc("actions ls action gact").get(2));
    }

    @Test
    void aPolicerCanSendWhatExceedsToAnotherChain() {
        rig.tc("qdisc add dev vb clsact");
        // 8 kbit/s, burst 1000 bytes: 20 frames of 50 conform, the rest go to chain 5, which drops them
        rig.tc("filter add dev vb ingress chain 0 prio 1 protocol ip matchall action police rate 8kbit burst 1000 conform-exceed goto chain 5");
        rig.tc("filter add dev vb ingress chain 5 prio 1 protocol ip matchall action drop");
        send(ICMP, 2, 0, 0, 30);
        assertEquals(20, ipReceivedByDst[2]);
        List<String> lines = rig.tc("filter show dev vb ingress");
        assertTrue(lines.contains("\taction order 1:  police 0x1 rate 8Kbit burst 1000b mtu 2Kb action goto chain 5 overhead 0b "),
                lines.toString());
    }

    // --- police ---

    @Test
    void policeLetsTheBurstThroughThenTheRate() {
        rig.tc("qdisc add dev vb clsact");
        // 8 kbit/s = 1000 bytes/s; burst 1000 bytes: 20 frames of 50 bytes at once, then 1 per 50 ms
        rig.tc("filter add dev vb ingress matchall action police rate 8kbit burst 1000 conform-exceed drop/ok");
        send(ICMP, 2, 0, 0, 30);
        assertEquals(20, ipReceivedByDst[2]);
        rig.advanceMillis(100);
        send(ICMP, 2, 0, 0, 5);
        assertEquals(22, ipReceivedByDst[2], "100 ms more buy two 50-byte frames");
        List<String> lines = rig.tc("-s filter show dev vb ingress");
        assertTrue(lines.contains("\taction order 1:  police 0x1 rate 8Kbit burst 1000b mtu 2Kb action drop overhead 0b "), lines.toString());
        assertTrue(lines.contains("\tSent " + 35 * 50 + " bytes 35 pkt (dropped 13, overlimits 13 requeues 0) "), lines.toString());
    }

    @Test
    void policeFramesLongerThanTheMtuExceed() {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress matchall action police rate 1mbit burst 10k mtu 40 drop");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(0, ipReceivedByDst[2]);
    }

    // --- filters on a classful qdisc ---

    @Test
    void u32OnPrioSendsWhatItMatchesToTheClassItsFlowidNames() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("qdisc add dev va parent 1:3 handle 30: pfifo");
        rig.tc("filter add dev va parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.3/32 flowid 1:3");
        send(ICMP, 3, 0, 0, 4);
        send(ICMP, 2, 0, 0, 2);
        assertEquals(4, ipReceivedByDst[3]);
        List<String> q = rig.tc("-s qdisc show dev va");
        int child = q.indexOf("qdisc pfifo 30: parent 1:3 limit 1000p");
        assertTrue(child > 0, q.toString());
        assertEquals(" Sent " + 4 * 64 + " bytes 4 pkt (dropped 0, overlimits 0 requeues 0) ", q.get(child + 1), "only the matched frames went to 1:3");
        List<String> f = rig.tc("filter show dev va");
        assertEquals("filter parent 1: protocol ip pref 1 u32 chain 0 ", f.get(0));
        assertTrue(f.contains("filter parent 1: protocol ip pref 1 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 flowid 1:3 not_in_hw "), f.toString());
    }

    @Test
    void u32OnHtbSendsWhatItMatchesToTheClassItsFlowidNames() {
        rig.tc("qdisc add dev va root handle 1: htb default 20");
        rig.tc("class add dev va parent 1: classid 1:1 htb rate 1gbit");
        rig.tc("class add dev va parent 1:1 classid 1:10 htb rate 500mbit ceil 1gbit");
        rig.tc("class add dev va parent 1:1 classid 1:20 htb rate 500mbit ceil 1gbit");
        rig.tc("filter add dev va parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.3/32 flowid 1:10");
        send(ICMP, 3, 0, 0, 4);
        send(ICMP, 2, 0, 0, 2);
        assertEquals(4, ipReceivedByDst[3]);
        assertEquals(2, ipReceivedByDst[2]);
        List<String> c = rig.tc("-s class show dev va");
        int ten = -1;
        int twenty = -1;
        for (int i = 0; i < c.size(); i++) {
            ten = c.get(i).startsWith("class htb 1:10 ") ? i : ten;
            twenty = c.get(i).startsWith("class htb 1:20 ") ? i : twenty;
        }
        assertTrue(ten >= 0 && twenty >= 0, c.toString());
        assertTrue(c.get(ten + 1).startsWith(" Sent " + 4 * 64 + " bytes 4 pkt"), "the matched frames went to 1:10: " + c);
        assertTrue(c.get(twenty + 1).startsWith(" Sent " + 2 * 64 + " bytes 2 pkt"), "the others to the default 1:20: " + c);
    }

    @Test
    void aDropOnPrioIsCountedAsTheQdiscsDrop() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("filter add dev va parent 1: protocol ip u32 match ip dst 10.0.0.2/32 action drop");
        send(ICMP, 2, 0, 0, 3);
        assertEquals(0, ipReceivedByDst[2]);
        assertTrue(rig.tc("-s qdisc show dev va").get(1).contains("(dropped 3,"), rig.tc("-s qdisc show dev va").toString());
    }

    @Test
    void aClasslessRootTakesNoFilters() {
        rig.tc("qdisc add dev va root handle 1: pfifo");
        CommandException e = assertThrows(CommandException.class,
                () -> rig.tc("filter add dev va parent 1: protocol ip u32 match ip dst 10.0.0.2/32 flowid 1:1"));
        assertEquals("Error: Qdisc not classful.\nWe have an error talking to the kernel", e.getMessage());
    }

    @Test
    void theIngressQdiscTakesFiltersAtParentFfffButHasNoEgress() {
        rig.tc("qdisc add dev vb handle ffff: ingress");
        rig.tc("filter add dev vb parent ffff: protocol ip u32 match ip dst 10.0.0.2/32 action drop");
        send(ICMP, 2, 0, 0, 2);
        send(ICMP, 3, 0, 0, 1);
        assertEquals(0, ipReceivedByDst[2]);
        assertEquals(1, ipReceivedByDst[3]);
        assertEquals("filter protocol ip pref 49152 u32 chain 0 ", rig.tc("filter show dev vb ingress").get(0));
        fails("filter add dev vb egress matchall action drop", "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel", 2);
    }
}
