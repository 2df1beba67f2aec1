package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.api.net.DeviceStats.Field.*;
import static org.modnet.shell.net.TestShell.lines;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

class IpLinkTest {
    private final TestShell shell = new TestShell();

    private static final String LO = lines(
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000",
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00");

    private FakeDevice[] veth() {
        return FakeCore.vethPair(shell.init(), "veth0", "veth1");
    }

    @Test
    void showsLoopbackAsLinuxDoes() {
        assertEquals(LO, shell.ip("link show lo"));
    }

    @Test
    void anAttachedXdpProgramIsShownAndXdpOffDetachesIt() {
        FakeDevice[] v = veth();
        v[0].setXdp(new org.modnet.api.net.XdpHook() {
            @Override
            public int run(org.modnet.api.skb.SkBuff skb, org.modnet.api.net.NetDevice dev, int rxQueue) {
                return XDP_PASS;
            }

            @Override
            public String describe() {
                return "id 7 name xdp_drop_icmp jited";
            }
        });
        assertEquals(lines(
                "2: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 xdpgeneric qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
                "    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff",
                "    prog/xdp id 7 name xdp_drop_icmp jited"), shell.ip("link show veth0"));
        shell.ip("link set dev veth0 xdp off");
        assertEquals(null, v[0].xdp());
        CommandException e = org.junit.jupiter.api.Assertions.assertThrows(CommandException.class,
                () -> shell.ip("link set dev veth0 xdp obj prog.o sec xdp"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("XDP is not available"), e.getMessage());
    }

    @Test
    void abbreviationsNameTheSameCommand() {
        assertEquals(LO, shell.ip("l"));
        assertEquals(LO, shell.ip("link"));
        assertEquals(LO, shell.ip("li sh dev lo"));
    }

    @Test
    void showsVethPeerByNameAndMDownWhilePeerIsDown() {
        veth();
        assertEquals(lines(
                "2: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
                "    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff"), shell.ip("link show veth0"));
    }

    @Test
    void showsVethPairUpWithCarrier() {
        FakeDevice[] pair = veth();
        pair[0].open();
        pair[1].open();
        assertEquals(lines(
                "3: veth1@veth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
                "    link/ether 02:00:00:00:00:0b brd ff:ff:ff:ff:ff:ff"), shell.ip("link show veth1"));
    }

    @Test
    void showsPeerInAnotherNamespaceByIndexWithLinkNetns() {
        veth();
        shell.ip("netns add ns1");
        shell.ip("link set veth1 netns ns1");
        assertEquals(lines(
                "2: veth0@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
                "    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff link-netns ns1"), shell.ip("link show veth0"));
        assertEquals(lines(
                "3: veth1@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
                "    link/ether 02:00:00:00:00:0b brd ff:ff:ff:ff:ff:ff link-netnsid 0"),
                shell.ip("-n ns1 link show veth1"));
    }

    @Test
    void listsEveryDeviceInIndexOrder() {
        veth();
        String out = shell.ip("link");
        assertTrue(out.startsWith(LO));
        assertEquals(6, out.lines().count());
        assertTrue(out.lines().toList().get(4).startsWith("3: veth1@veth0: "));
    }

    @Test
    void statisticsBlockHasModernColumns() {
        FakeDevice lo = (FakeDevice) shell.init().device("lo");
        lo.stats().add(RX_BYTES, 1234);
        lo.stats().add(RX_PACKETS, 12);
        lo.stats().add(TX_BYTES, 1234);
        lo.stats().add(TX_PACKETS, 12);
        assertEquals(LO + lines(
                "    RX:  bytes packets errors dropped  missed   mcast           ",
                "          1234      12      0       0       0       0 ",
                "    TX:  bytes packets errors dropped carrier collsns           ",
                "          1234      12      0       0       0       0 "), shell.ip("-s link show lo"));
    }

    @Test
    void statisticsColumnsWidenForLargeCounters() {
        FakeDevice lo = (FakeDevice) shell.init().device("lo");
        lo.stats().add(RX_BYTES, 123_456_789_012L);
        lo.stats().add(RX_PACKETS, 123_456_789L);
        List<String> out = shell.ip("-s link show lo").lines().toList();
        assertEquals("    RX:    bytes   packets errors dropped  missed   mcast           ", out.get(2));
        assertEquals("    123456789012 123456789      0       0       0       0 ", out.get(3));
    }

    @Test
    void doubleStatisticsAddsErrorDetail() {
        FakeDevice lo = (FakeDevice) shell.init().device("lo");
        lo.stats().add(RX_CRC_ERRORS, 3);
        lo.stats().add(TX_ABORTED_ERRORS, 4);
        List<String> out = shell.ip("-s -s link show lo").lines().toList();
        assertEquals(List.of(
                "    RX:  bytes packets errors dropped  missed   mcast           ",
                "             0       0      0       0       0       0 ",
                "    RX errors:  length    crc   frame    fifo overrun",
                "                     0      3       0       0       0 ",
                "    TX:  bytes packets errors dropped carrier collsns           ",
                "             0       0      0       0       0       0 ",
                "    TX errors: aborted   fifo  window heartbt transns",
                "                     4      0       0       0       0 "), out.subList(2, out.size()));
    }

    @Test
    void doubleStatisticsShowOtherhostDropsWhenThereAreSome() {
        FakeDevice lo = (FakeDevice) shell.init().device("lo");
        lo.stats().add(RX_OTHERHOST_DROPPED, 7);
        List<String> out = shell.ip("-s -s link show lo").lines().toList();
        // as iproute2 6.1 prints it on Linux 6.18 (a veth in promiscuous mode, one frame for another MAC)
        assertEquals("    RX errors:  length    crc   frame    fifo overrun otherhost", out.get(4));
        assertEquals("                     0      0       0       0       0         7 ", out.get(5));
        assertFalse(shell.ip("-s link show lo").contains("otherhost"), "a single -s has no error detail");
    }

    @Test
    void briefShowsOneLinePerDevice() {
        veth();
        assertEquals(lines(
                "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> ",
                "veth0@veth1      DOWN           02:00:00:00:00:0a <BROADCAST,MULTICAST,M-DOWN> ",
                "veth1@veth0      DOWN           02:00:00:00:00:0b <BROADCAST,MULTICAST,M-DOWN> "),
                shell.ip("-br link"));
    }

    @Test
    void onelineJoinsARecordWithBackslashes() {
        assertEquals("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group "
                + "default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n",
                shell.ip("-o link show lo"));
    }

    @Test
    void showOfAMissingDeviceSaysItDoesNotExist() {
        CommandException e = shell.ipFails("link show foo");
        assertEquals("Device \"foo\" does not exist.", e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void setsSeveralThingsInOneCommand() {
        FakeDevice[] pair = veth();
        shell.ip("link set dev veth0 up mtu 9000 txqueuelen 500 promisc on address 02:11:22:33:44:55 name eth9");
        FakeDevice d = pair[0];
        assertEquals("eth9", d.name());
        assertTrue(d.isUp());
        assertEquals(9000, d.mtu());
        assertEquals(500, d.txQueueLen());
        assertTrue(d.promisc);
        assertEquals("02:11:22:33:44:55", d.address().toString());
    }

    @Test
    void mtuAboveTheMaximumIsRefusedWithTheKernelsWordsAndNothingChanges() {
        FakeDevice[] pair = veth();
        CommandException e = shell.ipFails("link set veth0 mtu 70000 up");
        assertEquals("Error: mtu greater than device maximum.", e.getMessage());
        assertEquals(2, e.status());
        assertEquals(1500, pair[0].mtu());
        assertFalse(pair[0].isUp());
    }

    @Test
    void refusalWithoutDetailIsRtnetlinkAnswers() {
        CommandException e = shell.ipFails("link set lo address 02:00:00:00:00:01");
        assertEquals("RTNETLINK answers: Operation not supported", e.getMessage());
        assertEquals(2, e.status());
    }

    @Test
    void mtuThatIsNotANumberIsAnArgumentErrorAndNothingChanges() {
        FakeDevice[] pair = veth();
        CommandException e = shell.ipFails("link set veth0 up mtu 15x0");
        assertEquals("Error: argument \"15x0\" is wrong: Invalid \"mtu\" value", e.getMessage());
        assertEquals(255, e.status());
        assertFalse(pair[0].isUp());
    }

    @Test
    void secondMtuIsADuplicate() {
        veth();
        CommandException e = shell.ipFails("link set veth0 mtu 1400 mtu 1300");
        assertEquals("Error: duplicate \"mtu\": \"1300\" is the second value.", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void settingAMissingDeviceCannotFindIt() {
        CommandException e = shell.ipFails("link set foo up");
        assertEquals("Cannot find device \"foo\"", e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void setWithoutDeviceNeedsOne() {
        CommandException e = shell.ipFails("link set up");
        assertEquals("Not enough information: \"dev\" argument is required.", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void secondDeviceWordIsGarbage() {
        veth();
        CommandException e = shell.ipFails("link set veth0 bogus");
        assertEquals("Error: either \"dev\" is duplicate, or \"bogus\" is a garbage.", e.getMessage());
    }

    @Test
    void promiscTakesOnOrOff() {
        veth();
        CommandException e = shell.ipFails("link set veth0 promisc yes");
        assertEquals("Error: argument of \"promisc\" must be \"on\" or \"off\", not \"yes\"", e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void keywordWithoutValueIsAnIncompleteCommand() {
        veth();
        CommandException e = shell.ipFails("link set veth0 mtu");
        assertEquals("Command line is not complete. Try option \"help\"", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void badAddressIsAnInvalidLladdr() {
        veth();
        CommandException e = shell.ipFails("link set veth0 address zz:00");
        assertEquals("\"zz:00\" is invalid lladdr.", e.getMessage());
    }

    @Test
    void movesADeviceToAnotherNamespace() {
        veth();
        shell.ip("netns add ns1");
        shell.ip("link set veth1 netns ns1");
        assertNull(shell.init().device("veth1"));
        assertEquals("veth1", shell.core.ns("ns1").device("veth1").name());
    }

    @Test
    void unknownNamespaceForNetnsIsAnArgumentError() {
        veth();
        CommandException e = shell.ipFails("link set veth1 netns nowhere");
        assertEquals("Error: argument \"nowhere\" is wrong: Invalid \"netns\" value", e.getMessage());
    }

    @Test
    void addsThroughTheLinkFactoryOfTheKind() {
        List<List<String>> calls = new ArrayList<>();
        shell.links.put("veth", (NetNamespace ns, String name, List<String> args) -> {
            calls.add(new ArrayList<>(List.of(ns.name(), name)));
            calls.get(0).addAll(args);
            return FakeCore.vethPair((FakeNamespace) ns, name, args.get(args.size() - 1))[0];
        });
        shell.ip("link add v0 mtu 9000 type veth peer name v1");
        assertEquals(List.of(List.of("init_net", "v0", "peer", "name", "v1")), calls);
        assertEquals(9000, shell.init().device("v0").mtu());
        assertEquals("v1", shell.init().device("v1").name());
    }

    @Test
    void addSizesTheQueuesItWasGivenAndDetailsShowThem() {
        shell.links.put("veth", (NetNamespace ns, String name, List<String> args) -> {
            FakeDevice[] pair = FakeCore.vethPair((FakeNamespace) ns, name, "v1");
            pair[0].maxRxQueues = 16;
            return pair[0];
        });
        shell.ip("link add name v0 numtxqueues 4 numrxqueues 2 type veth peer name v1");
        NetDevice v0 = shell.init().device("v0");
        assertEquals(4, v0.txQueues());
        assertEquals(2, v0.rxQueues());
        assertTrue(shell.ip("-d link show v0").contains("    veth numtxqueues 4 numrxqueues 2 "));
    }

    /**
     * {@code numrxqueues}/{@code numtxqueues} before {@code type} reach the driver as it makes the device
     * (rtnl_create_link's IFLA_NUM_*_QUEUES), so one whose queues are its own (afpacket) makes them then;
     * nothing is set on the device afterwards when it took them. 0 when not given.
     */
    @Test
    void theQueueCountsBeforeTheTypeReachTheDriverThatMakesTheDevice() {
        List<int[]> asked = new ArrayList<>();
        shell.links.put("afpacket", new LinkFactory() {
            @Override
            public NetDevice create(NetNamespace ns, String name, List<String> args) {
                throw new AssertionError("the counts are for the driver");
            }

            @Override
            public NetDevice create(NetNamespace ns, String name, List<String> args, int numTx, int numRx) {
                asked.add(new int[] { numTx, numRx });
                FakeDevice d = ((FakeNamespace) ns).add(FakeDevice.ether(name, "afpacket", "02:00:00:00:00:0e"));
                d.maxRxQueues = Math.max(1, numRx);
                d.rxQueues = Math.max(1, numRx);
                d.noSetChannels = true; // its queues are its own: a count set afterwards would be refused
                return d;
            }
        });
        shell.ip("link add afp0 numrxqueues 2 type afpacket dev eth9");
        assertEquals(List.of(0, 2), List.of(asked.get(0)[0], asked.get(0)[1]));
        assertEquals(2, shell.init().device("afp0").rxQueues());
        shell.ip("link add afp1 type afpacket dev eth9");
        assertEquals(List.of(0, 0), List.of(asked.get(1)[0], asked.get(1)[1]), "none given");
    }

    @Test
    void addWithMoreQueuesThanTheDriverHasIsInvalidArgument() {
        shell.links.put("veth", (NetNamespace ns, String name, List<String> args) -> FakeCore.vethPair((FakeNamespace) ns, name, "v1")[0]);
        CommandException e = shell.ipFails("link add name v0 numtxqueues 4 type veth peer name v1");
        assertEquals("RTNETLINK answers: Invalid argument", e.getMessage());
        assertNull(shell.init().device("v0"), "made with its settings or not at all");
    }

    @Test
    void numtxqueuesIsNotAValueItCannotParse() {
        CommandException e = shell.ipFails("link add name v0 numtxqueues four type veth");
        assertEquals("Error: argument \"four\" is wrong: Invalid \"numtxqueues\" value", e.getMessage());
    }

    @Test
    void addOfAnUnknownKindIsAnUnknownDeviceType() {
        CommandException e = shell.ipFails("link add x0 type bogus");
        assertEquals("Error: Unknown device type.", e.getMessage());
        assertEquals(2, e.status());
    }

    @Test
    void addWithoutTypeNeedsOne() {
        CommandException e = shell.ipFails("link add x0");
        assertEquals("Not enough information: \"type\" argument is required", e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void addRefusedByTheDriverIsRtnetlinkAnswers() {
        shell.links.put("veth", (LinkFactory) (ns, name, args) -> {
            throw new NetException(Errno.EEXIST);
        });
        CommandException e = shell.ipFails("link add lo type veth");
        assertEquals("RTNETLINK answers: File exists", e.getMessage());
        assertEquals(2, e.status());
    }

    @Test
    void addRejectsAnInvalidName() {
        CommandException e = shell.ipFails("link add name a/b type veth");
        assertEquals("Error: argument \"a/b\" is wrong: \"name\" not a valid ifname", e.getMessage());
    }

    @Test
    void deletesADeviceAndItsPeer() {
        veth();
        shell.ip("link del veth0");
        assertNull(shell.init().device("veth0"));
        assertNull(shell.init().device("veth1"));
    }

    @Test
    void loopbackCannotBeDeleted() {
        CommandException e = shell.ipFails("link delete dev lo");
        assertEquals("RTNETLINK answers: Operation not supported", e.getMessage());
    }

    @Test
    void unknownLinkCommandSuggestsHelp() {
        CommandException e = shell.ipFails("link frob");
        assertEquals("Command \"frob\" is unknown, try \"ip link help\".", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void unknownObjectAndOptionAreSyntaxErrors() {
        assertEquals("Object \"frob\" is unknown, try \"ip help\".", shell.ipFails("frob").getMessage());
        CommandException e = shell.ipFails("-x link");
        assertEquals("Option \"-x\" is unknown, try \"ip -help\".", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void saysWhenTheCoreIsNotRunning() {
        shell.coreRunning = false;
        CommandException e = shell.ipFails("link");
        assertEquals("ip: the network core (org.modnet.core) is not running", e.getMessage());
    }
}
