package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.modnet.api.net.DeviceStats.Field.*;
import static org.modnet.shell.net.TestShell.lines;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.SoftnetStat;
import org.modnet.api.shell.CommandException;

class CatCommandTest {
    private final TestShell shell = new TestShell();

    @Test
    void procNetDevHasTheKernelsHeaderAndColumns() {
        FakeDevice veth0 = FakeCore.vethPair(shell.init(), "veth0", "veth1")[0];
        var s = veth0.stats();
        s.add(RX_BYTES, 123456);
        s.add(RX_PACKETS, 789);
        s.add(RX_ERRORS, 5);
        s.add(RX_DROPPED, 2);
        s.add(RX_MISSED_ERRORS, 3); // drop = dropped + missed
        s.add(RX_FIFO_ERRORS, 1);
        s.add(RX_LENGTH_ERRORS, 1); // frame = length + over + crc + frame
        s.add(RX_CRC_ERRORS, 2);
        s.add(MULTICAST, 9);
        s.add(TX_BYTES, 4242);
        s.add(TX_PACKETS, 42);
        s.add(COLLISIONS, 1);
        s.add(TX_CARRIER_ERRORS, 1); // carrier = carrier + aborted + window + heartbeat
        s.add(TX_ABORTED_ERRORS, 2);
        assertEquals(lines(
                "Inter-|   Receive                                                |  Transmit",
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
                "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0",
                " veth0:  123456     789    5    5    1     3          0         9     4242      42    0    0    0     1       3          0",
                " veth1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0"),
                shell.cat("/proc/net/dev"));
    }

    @Test
    void procNetDevListsTheSessionNamespace() {
        shell.ip("netns add ns1");
        shell.session.put(org.modnet.api.shell.Commands.NETNS, "ns1");
        assertEquals(3, shell.cat("/proc/net/dev").lines().count());
    }

    @Test
    void softnetStatHasThirteenHexColumnsPerCpu() {
        shell.core.softnet.addAll(List.of(new SoftnetStat(0, 1000, 2, 17, 50), new SoftnetStat(1, 0x1_0000_0001L, 0, 0, 0)));
        assertEquals(lines(
                "000003e8 00000002 00000011 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000",
                "00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001"),
                shell.cat("/proc/net/softnet_stat"));
    }

    @Test
    void readsASysctlFile() {
        assertEquals("64\n", shell.cat("/proc/sys/net/core/dev_weight"));
    }

    @Test
    void otherPathsAreNotThere() {
        CommandException e = shell.catFails("/proc/net/snmp");
        assertEquals("cat: /proc/net/snmp: No such file or directory", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("cat: /proc/sys/net/core/nope: No such file or directory",
                shell.catFails("/proc/sys/net/core/nope").getMessage());
        assertEquals("cat: /proc/sys/net/core: Is a directory", shell.catFails("/proc/sys/net/core").getMessage());
    }

    @Test
    void printsTheFilesThatExistAndFailsForTheRest() {
        CommandException e = shell.catFails("/nope /proc/sys/net/ipv4/ip_forward");
        assertEquals("cat: /nope: No such file or directory", e.getMessage());
        assertEquals("0\n", shell.out());
    }
}
