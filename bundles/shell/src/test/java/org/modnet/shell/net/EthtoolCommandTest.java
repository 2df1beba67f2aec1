package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.shell.net.TestShell.lines;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

class EthtoolCommandTest {
    private final TestShell shell = new TestShell();
    private final FakeDevice veth0 = FakeCore.vethPair(shell.init(), "veth0", "veth1")[0];

    EthtoolCommandTest() {
        veth0.driverInfo = Map.of("driver", "veth", "version", "1.0", "bus-info", "");
        veth0.ethtoolStats = new LinkedHashMap<>(Map.of("peer_ifindex", 3L));
        // the core keeps features sorted by name; ethtool shows the legacy offloads first, in its order
        veth0.features.put("generic-receive-offload", false);
        veth0.features.put("large-receive-offload", false);
        veth0.features.put("rx-checksumming", true);
        veth0.features.put("tx-checksumming", true);
        veth0.fixed = Set.of("large-receive-offload");
        veth0.maxRxQueues = 16;
    }

    @Test
    void showsRingSizesWithNaForRingsTheDeviceLacks() {
        assertEquals(lines("Ring parameters for veth0:", "Pre-set maximums:", "RX:\t\t4096", "RX Mini:\tn/a",
                "RX Jumbo:\tn/a", "TX:\t\tn/a", "Current hardware settings:", "RX:\t\t256", "RX Mini:\tn/a",
                "RX Jumbo:\tn/a", "TX:\t\tn/a"), shell.ethtool("-g veth0"));
    }

    @Test
    void setsTheReceiveRing() {
        shell.ethtool("-G veth0 rx 1024");
        assertEquals(1024, veth0.rxRing);
    }

    @Test
    void ringSizeAboveTheMaximumIsRefused() {
        CommandException e = shell.ethtoolFails("-G veth0 tx 0 rx 9000");
        // ethnl_set_rings' extended ACK: the offset is the rx attribute's, the second in the request
        assertEquals("netlink error: requested ring size exceeds maximum (offset 44)\nnetlink error: Invalid argument", e.getMessage());
        assertEquals(81, e.status());
        assertEquals(256, veth0.rxRing);
        assertEquals("netlink error: Invalid argument", shell.ethtoolFails("-G veth0 rx 0").getMessage());
        assertEquals(256, veth0.rxRing);
    }

    /** ethtool 6.1 over netlink: nothing changed is no request, nothing printed, status 0 (the ioctl era's "unmodified, ignoring" is gone). */
    @Test
    void unchangedRingIsNoChange() {
        assertEquals("", shell.ethtool("--set-ring veth0 rx 256"));
        assertEquals("", shell.err());
        assertEquals(256, veth0.rxRing);
    }

    /** nl_parser's words, status 1, before anything is asked; a missing device is the kernel's, status 81 for -G. */
    @Test
    void badParametersAndAMissingDeviceInEthtoolsNetlinkWords() {
        CommandException e = shell.ethtoolFails("-G veth0 foo 1");
        assertEquals("ethtool (-G): unknown parameter 'foo'", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("ethtool (-G): no value for parameter 'rx'", shell.ethtoolFails("-G veth0 rx").getMessage());
        assertEquals("ethtool (-L): invalid value 'x' for parameter 'rx'", shell.ethtoolFails("-L veth0 rx x").getMessage());
        CommandException missing = shell.ethtoolFails("-G eth7 rx 100");
        assertEquals("netlink error: no device matches name (offset 24)\nnetlink error: No such device", missing.getMessage());
        assertEquals(81, missing.status());
        assertEquals(1, shell.ethtoolFails("-L eth7").status());
    }

    @Test
    void malformedRingArgumentsAreRefusedByTheParser() {
        String[][] cases = { { "-G veth0 rx", "ethtool (-G): no value for parameter 'rx'" },
            { "-G veth0 rx many", "ethtool (-G): invalid value 'many' for parameter 'rx'" },
            { "-G veth0 rx -1", "ethtool (-G): invalid value '-1' for parameter 'rx'" },
            { "-G veth0 bogus 1", "ethtool (-G): unknown parameter 'bogus'" } };
        for (String[] c : cases) {
            CommandException e = shell.ethtoolFails(c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
            assertEquals(1, e.status());
        }
        assertEquals(256, veth0.rxRing);
    }

    @Test
    void showsEveryFeatureLinuxNamesInEthtoolsOrderWithTheMissingOnesOffAndFixed() {
        String k = shell.ethtool("-k veth0");
        List<String> l = k.lines().toList();
        assertEquals(64, l.size(), "the header and Linux 6.18's 63 lines: " + k);
        assertEquals(List.of("Features for veth0:", "rx-checksumming: on", "tx-checksumming: on", "\ttx-checksum-ipv4: off [fixed]",
                "\ttx-checksum-ip-generic: on", "\ttx-checksum-ipv6: off [fixed]", "\ttx-checksum-fcoe-crc: off [fixed]",
                "\ttx-checksum-sctp: off [fixed]", "scatter-gather: off", "\ttx-scatter-gather: off [fixed]"), l.subList(0, 10));
        assertTrue(k.contains("\ngeneric-receive-offload: off\nlarge-receive-offload: off [fixed]\n"), k);
        assertTrue(k.endsWith("\nhsr-dup-offload: off [fixed]\n"), k);
    }

    @Test
    void setsAFeatureByShortOrLongName() {
        shell.ethtool("-K veth0 gro on");
        assertTrue(veth0.features.get("generic-receive-offload"));
        shell.ethtool("--offload veth0 rx-checksumming off tx off");
        assertFalse(veth0.features.get("rx-checksumming"));
        assertFalse(veth0.features.get("tx-checksumming"));
    }

    @Test
    void fixedFeatureCannotChange() {
        CommandException e = shell.ethtoolFails("-K veth0 lro on");
        assertEquals("Could not change any device features", e.getMessage());
        assertEquals(1, e.status());
        assertEquals(lines("Actual changes:", "rx-lro: off [requested on]"), shell.out(), "ethtool 6.1's netlink report, by kernel names");
    }

    /**
     * What netdev_fix_features drops is off in effect, though asked for: TCP segmentation without transmit
     * checksumming, UDP segmentation likewise. -K reports them as moved with the change ({@code [not
     * requested]}); -k then shows {@code off [requested on]}, as Linux 6.18 does after {@code ethtool -K v0 tx off};
     * turning checksumming on again brings them back.
     */
    @Test
    void segmentationThatNeedsChecksummingGoesOffWithItAndSaysSo() {
        veth0.features.put("scatter-gather", true);
        veth0.features.put("tcp-segmentation-offload", true);
        veth0.features.put("tx-udp-segmentation", true);
        assertEquals(lines("Actual changes:", "tx-checksum-ip-generic: off", "tx-tcp-segmentation: off [not requested]",
                "tx-udp-segmentation: off [not requested]"), shell.ethtool("-K veth0 tx off"));
        String k = shell.ethtool("-k veth0");
        assertTrue(k.contains("\ntcp-segmentation-offload: off\n\ttx-tcp-segmentation: off [requested on]\n"), k);
        assertTrue(k.contains("\ntx-udp-segmentation: off [requested on]\n"), k);
        assertEquals(lines("Actual changes:", "tx-checksum-ip-generic: on", "tx-tcp-segmentation: on [not requested]",
                "tx-udp-segmentation: on [not requested]"), shell.ethtool("-K veth0 tx-checksum-ip-generic on"));
    }

    /** What was asked and happened, then what was asked and did not, in the kernel's bit order; status 0. */
    @Test
    void partlyRefusedChangeListsTheActualChanges() {
        assertEquals(lines("Actual changes:", "rx-gro: on", "rx-lro: off [requested on]"),
                shell.ethtool("-K veth0 lro on gro on"));
        assertEquals("", shell.ethtool("-K veth0 gro on"), "as asked already: nothing to say");
    }

    /**
     * A name the kernel has not is refused whole (nothing set), with the offset of its name in ethtool's
     * bitset after the bits before it (gro is rx-gro: 20 bytes with its value flag); a flag without on or
     * off is ethtool's own parser's odd words.
     */
    @Test
    void unknownFeatureIsRefusedByTheKernelWithItsOffset() {
        CommandException e = shell.ethtoolFails("-K veth0 gro on warp-drive on");
        assertEquals("netlink error: bit name not found (offset 76)\nnetlink error: Operation not supported", e.getMessage());
        assertEquals(92, e.status());
        assertFalse(veth0.features.get("generic-receive-offload"), "nothing set");
        assertEquals("ethtool (-K): flag 'maybe' for parameter '(null)' is not followed by 'on' or 'off'",
                shell.ethtoolFails("-K veth0 gro maybe").getMessage());
        assertEquals("ethtool (-K): flag '(null)' for parameter '(null)' is not followed by 'on' or 'off'",
                shell.ethtoolFails("-K veth0 gro").getMessage());
        assertEquals("Could not change any device features", shell.ethtoolFails("-K veth0 ufo on").getMessage(),
                "a legacy flag no kernel feature has: nothing asked");
    }

    @Test
    void showsDriverInformation() {
        assertEquals(lines("driver: veth", "version: 1.0", "firmware-version: ", "expansion-rom-version: ",
                "bus-info: ", "supports-statistics: yes", "supports-test: no", "supports-eeprom-access: no",
                "supports-register-dump: no", "supports-priv-flags: no"), shell.ethtool("-i veth0"));
    }

    @Test
    void showsDriverStatistics() {
        assertEquals(lines("NIC statistics:", "     peer_ifindex: 3"), shell.ethtool("-S veth0"));
        CommandException e = shell.ethtoolFails("-S lo");
        assertEquals("no stats available", e.getMessage());
        assertEquals(94, e.status());
    }

    @Test
    void loopbackRefusesWhatLinuxsLoopbackHasNoOperationFor() {
        String[][] refusals = { { "-i lo", "Cannot get driver information: Operation not supported", "71" },
                { "-S lo", "no stats available", "94" }, { "-g lo", "netlink error: Operation not supported", "1" },
                { "-l lo", "netlink error: Operation not supported", "1" }, { "-L lo combined 1", "netlink error: Operation not supported", "1" },
                { "-G lo rx 100", "netlink error: Operation not supported", "81" } };
        for (String[] r : refusals) {
            CommandException e = shell.ethtoolFails(r[0]);
            assertEquals(r[1], e.getMessage(), r[0]);
            assertEquals(Integer.parseInt(r[2]), e.status(), r[0]);
        }
        assertTrue(shell.ethtool("-k lo").startsWith("Features for lo:\n"), "its features it shows");
    }

    @Test
    void showsChannelsAsCombinedQueues() {
        FakeDevice tap0 = shell.init().add(FakeDevice.ether("tap0", "tap", "02:00:00:00:00:0c"));
        tap0.maxRxQueues = 16;
        assertEquals(lines("Channel parameters for tap0:", "Pre-set maximums:", "RX:\t\tn/a", "TX:\t\tn/a",
                "Other:\t\tn/a", "Combined:\t16", "Current hardware settings:", "RX:\t\tn/a", "TX:\t\tn/a",
                "Other:\t\tn/a", "Combined:\t1"), shell.ethtool("-l tap0"));
    }

    @Test
    void setsCombinedChannels() {
        FakeDevice tap0 = shell.init().add(FakeDevice.ether("tap0", "tap", "02:00:00:00:00:0c"));
        tap0.maxRxQueues = 16;
        shell.ethtool("-L tap0 combined 4");
        assertEquals(4, tap0.rxQueues);
        CommandException e = shell.ethtoolFails("-L tap0 combined 17");
        assertEquals("netlink error: requested channel count exceeds maximum (offset 36)\nnetlink error: Invalid argument", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("netlink error: requested channel count exceeds maximum (offset 36)\nnetlink error: Invalid argument",
                shell.ethtoolFails("-L tap0 rx 2").getMessage());
        // combined 0 leaves no channel: the combined attribute is blamed, as it was the one changed
        assertEquals("netlink error: requested channel counts would result in no RX or TX channel being configured (offset 36)\n"
                + "netlink error: Invalid argument", shell.ethtoolFails("-L tap0 combined 0").getMessage());
        assertEquals(4, tap0.rxQueues);
        assertEquals("", shell.ethtool("-L tap0 combined 4"));
    }

    /** A driver without {@code set_channels} (afpacket): ethtool's netlink words for EOPNOTSUPP, status 1, as Linux's lo gets. */
    @Test
    void aDriverWithoutSetChannelsIsRefusedInNetlinksWords() {
        FakeDevice afp0 = shell.init().add(FakeDevice.ether("afp0", "afpacket", "02:00:00:00:00:0d"));
        afp0.maxRxQueues = 2;
        afp0.rxQueues = 2;
        afp0.noSetChannels = true;
        CommandException e = shell.ethtoolFails("-L afp0 combined 1");
        assertEquals("netlink error: Operation not supported", e.getMessage());
        assertEquals(1, e.status());
        assertEquals(2, afp0.rxQueues, "both queues stay");
        assertEquals("netlink error: Operation not supported", shell.ethtoolFails("-L afp0 combined 2").getMessage(),
                "refused before the counts are looked at, as ethnl_set_channels refuses a driver without set_channels");
    }

    @Test
    void aVethCountsReceiveAndTransmitChannelsApart() throws Exception {
        veth0.setTxQueues(4);
        veth0.setRxQueues(2);
        assertEquals(lines("Channel parameters for veth0:", "Pre-set maximums:", "RX:\t\t16", "TX:\t\t16",
                "Other:\t\tn/a", "Combined:\tn/a", "Current hardware settings:", "RX:\t\t2", "TX:\t\t4",
                "Other:\t\tn/a", "Combined:\tn/a"), shell.ethtool("-l veth0"));
        shell.ethtool("-L veth0 rx 3 tx 1");
        assertEquals(1, veth0.txQueues());
        assertEquals(3, veth0.rxQueues());
        // the lines Linux 6.18's veth gives ethtool 6.1 for the same requests on a device named veth0
        assertEquals("netlink error: requested channel count exceeds maximum (offset 36)\nnetlink error: Invalid argument",
                shell.ethtoolFails("-L veth0 combined 2").getMessage());
        assertEquals("netlink error: requested channel count exceeds maximum (offset 44)\nnetlink error: Invalid argument",
                shell.ethtoolFails("-L veth0 rx 2 tx 17").getMessage());
        assertEquals("netlink error: requested channel counts would result in no RX or TX channel being configured (offset 44)\n"
                + "netlink error: Invalid argument", shell.ethtoolFails("-L veth0 rx 2 tx 0").getMessage());
        assertEquals(3, veth0.rxQueues(), "nothing changed by a refused request");
        assertEquals("", shell.ethtool("-L veth0 rx 3"));
        assertEquals("", shell.ethtool("-L veth0"));
    }

    @Test
    void coalescingIsNotSupported() {
        CommandException e = shell.ethtoolFails("-c veth0");
        assertEquals("netlink error: Operation not supported", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("", shell.out());
        CommandException set = shell.ethtoolFails("-C veth0 rx-usecs 10");
        assertEquals("netlink error: Operation not supported", set.getMessage());
        assertEquals(1, set.status());
        assertEquals("ethtool (-C): invalid value 'x' for parameter 'rx-usecs'", shell.ethtoolFails("-C veth0 rx-usecs x").getMessage());
        assertEquals(76, shell.ethtoolFails("-A veth0 rx on").status());
        assertEquals("ethtool (-A): unknown parameter 'foo'", shell.ethtoolFails("-A veth0 foo on").getMessage());
    }

    @Test
    void showsLinkSettingsOfASoftwareDevice() {
        veth0.open();
        ((FakeDevice) shell.init().device("veth1")).open();
        String out = shell.ethtool("veth0");
        assertTrue(out.startsWith("Settings for veth0:\n\tSupported ports: [ ]\n"));
        assertTrue(out.contains("\tSpeed: 10000Mb/s\n\tDuplex: Full\n"));
        assertTrue(out.endsWith("\tLink detected: yes\n"));
        assertEquals(lines("Settings for lo:", "\tLink detected: yes"), shell.ethtool("lo"));
    }

    @Test
    void linkIsNotDetectedWhileDown() {
        assertTrue(shell.ethtool("veth0").endsWith("\tLink detected: no\n"));
    }

    @Test
    void missingDeviceIsNoSuchDevice() {
        CommandException e = shell.ethtoolFails("-g eth7");
        assertEquals("netlink error: no device matches name (offset 24)\nnetlink error: No such device", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("", shell.out(), "no header before the kernel's refusal");
        assertEquals("Cannot get driver information: No such device", shell.ethtoolFails("-i eth7").getMessage());
        assertEquals(71, shell.ethtoolFails("-i eth7").status());
        assertEquals("netlink error: no device matches name (offset 24)\nnetlink error: No such device",
                shell.ethtoolFails("-k eth7").getMessage());
        assertEquals(75, shell.ethtoolFails("eth7").status());
    }

    @Test
    void badOptionOrNoDeviceIsABadArgument() {
        assertEquals(EthtoolCommand.BAD_ARGS, shell.ethtoolFails("-z veth0").getMessage());
        assertEquals(EthtoolCommand.BAD_ARGS, shell.ethtoolFails("").getMessage());
        assertEquals(EthtoolCommand.BAD_ARGS, shell.ethtoolFails("-g").getMessage());
        assertEquals(EthtoolCommand.BAD_ARGS, shell.ethtoolFails("-g veth0 extra").getMessage());
    }
}
