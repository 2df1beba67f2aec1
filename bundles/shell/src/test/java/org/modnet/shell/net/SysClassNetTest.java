package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.api.net.DeviceStats.Field.*;
import static org.modnet.shell.net.TestShell.lines;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/** {@code cat} and {@code ls} of modnet's /sys/class/net and /proc, not the host's. */
class SysClassNetTest {
    private final TestShell shell = new TestShell();

    @Test
    void deviceAttributesAreOneLineEachAsSysfsPrintsThem() throws Exception {
        FakeDevice[] veth = FakeCore.vethPair(shell.init(), "veth0", "veth1");
        veth[0].open();
        veth[1].open();
        assertEquals("1500\n", shell.cat("/sys/class/net/veth0/mtu"));
        assertEquals("02:00:00:00:00:0a\n", shell.cat("/sys/class/net/veth0/address"));
        assertEquals("ff:ff:ff:ff:ff:ff\n", shell.cat("/sys/class/net/veth0/broadcast"));
        assertEquals("up\n", shell.cat("/sys/class/net/veth0/operstate"));
        assertEquals("1\n", shell.cat("/sys/class/net/veth0/carrier"));
        assertEquals(veth[0].ifindex() + "\n", shell.cat("/sys/class/net/veth0/ifindex"));
        assertEquals(veth[1].ifindex() + "\n", shell.cat("/sys/class/net/veth0/iflink"), "a veth's iflink is its peer");
        assertEquals("1\n", shell.cat("/sys/class/net/veth0/type"));
        assertEquals("0x1003\n", shell.cat("/sys/class/net/veth0/flags"), "UP|BROADCAST|MULTICAST: no RUNNING, as dev->flags");
        assertEquals("1000\n", shell.cat("/sys/class/net/veth0/tx_queue_len"));
        assertEquals("772\n", shell.cat("/sys/class/net/lo/type"));
        assertEquals("00:00:00:00:00:00\n", shell.cat("/sys/class/net/lo/address"));
    }

    @Test
    void queuesHaveADirectoryPerReceiveAndTransmitQueue() throws Exception {
        FakeDevice veth0 = FakeCore.vethPair(shell.init(), "veth0", "veth1")[0];
        veth0.maxRxQueues = 4;
        veth0.setTxQueues(3);
        veth0.setRxQueues(2);
        assertEquals(lines("rx-0", "rx-1", "tx-0", "tx-1", "tx-2"), shell.ls("/sys/class/net/veth0/queues"));
        assertEquals(lines("tx_maxrate", "tx_timeout"), shell.ls("/sys/class/net/veth0/queues/tx-2"));
        assertEquals("0\n", shell.cat("/sys/class/net/veth0/queues/tx-2/tx_timeout"));
        assertEquals("0\n", shell.cat("/sys/class/net/veth0/queues/rx-1/rps_flow_cnt"));
        assertEquals("cat: /sys/class/net/veth0/queues/tx-3/tx_timeout: No such file or directory",
                shell.catFails("/sys/class/net/veth0/queues/tx-3/tx_timeout").getMessage());
        assertEquals(lines("rx-0", "tx-0"), shell.ls("/sys/class/net/veth1/queues"));
    }

    @Test
    void aDeviceWithAQueueShowsItsByteQueueLimits() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        FakeDevice eth0 = shell.init().add(FakeDevice.ether("eth0", "tap", "02:00:00:00:00:0c"));
        eth0.bql = new org.modnet.api.net.ByteQueueLimits(3028, 1879048192L, 0, 1000, 1514);
        assertEquals(lines("byte_queue_limits", "tx_maxrate", "tx_timeout"), shell.ls("/sys/class/net/eth0/queues/tx-0"));
        assertEquals(lines("hold_time", "inflight", "limit", "limit_max", "limit_min"),
                shell.ls("/sys/class/net/eth0/queues/tx-0/byte_queue_limits"));
        assertEquals("3028\n", shell.cat("/sys/class/net/eth0/queues/tx-0/byte_queue_limits/limit"));
        assertEquals("1514\n", shell.cat("/sys/class/net/eth0/queues/tx-0/byte_queue_limits/inflight"));
        assertEquals("1879048192\n", shell.cat("/sys/class/net/eth0/queues/tx-0/byte_queue_limits/limit_max"));
        assertEquals("1000\n", shell.cat("/sys/class/net/eth0/queues/tx-0/byte_queue_limits/hold_time"));
        assertEquals("cat: /sys/class/net/veth0/queues/tx-0/byte_queue_limits/limit: No such file or directory",
                shell.catFails("/sys/class/net/veth0/queues/tx-0/byte_queue_limits/limit").getMessage());
    }

    @Test
    void carrierOfADownDeviceIsInvalidArgument() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        CommandException e = shell.catFails("/sys/class/net/veth0/carrier");
        assertEquals("cat: /sys/class/net/veth0/carrier: Invalid argument", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("down\n", shell.cat("/sys/class/net/veth0/operstate"));
        assertEquals("0x1002\n", shell.cat("/sys/class/net/veth0/flags"));
    }

    @Test
    void statisticsAreTheDevicesCounters() {
        FakeDevice veth0 = FakeCore.vethPair(shell.init(), "veth0", "veth1")[0];
        veth0.stats().add(RX_PACKETS, 789);
        veth0.stats().add(TX_BYTES, 4242);
        veth0.stats().add(RX_NOHANDLER, 3);
        assertEquals("789\n", shell.cat("/sys/class/net/veth0/statistics/rx_packets"));
        assertEquals("4242\n", shell.cat("/sys/class/net/veth0/statistics/tx_bytes"));
        assertEquals("3\n", shell.cat("/sys/class/net/veth0/statistics/rx_nohandler"));
        assertEquals("0\n", shell.cat("/sys/class/net/veth1/statistics/rx_packets"));
        assertEquals("cat: /sys/class/net/veth0/statistics/rx_otherhost_dropped: No such file or directory",
                shell.catFails("/sys/class/net/veth0/statistics/rx_otherhost_dropped").getMessage());
    }

    @Test
    void lsListsTheNamespacesDevicesNotTheHosts() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        assertEquals(lines("lo", "veth0", "veth1"), shell.ls("/sys/class/net"));
        assertEquals(lines("lo", "veth0", "veth1"), shell.ls("/sys/class/net/"));
        shell.ip("netns add ns1");
        shell.session.put(org.modnet.api.shell.Commands.NETNS, "ns1");
        assertEquals(lines("lo"), shell.ls("/sys/class/net"));
        assertEquals("cat: /sys/class/net/veth0/mtu: No such file or directory",
                shell.catFails("/sys/class/net/veth0/mtu").getMessage());
    }

    @Test
    void lsOfADeviceAndItsStatistics() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        assertEquals(lines("addr_len", "address", "broadcast", "carrier", "carrier_changes", "flags", "gro_flush_timeout", "ifindex", "iflink", "mtu",
                "napi_defer_hard_irqs", "operstate", "queues", "statistics", "tx_queue_len", "type"), shell.ls("/sys/class/net/veth0"));
        String stats = shell.ls("/sys/class/net/veth0/statistics");
        assertEquals(lines("collisions", "multicast", "rx_bytes", "rx_compressed", "rx_crc_errors", "rx_dropped", "rx_errors",
                "rx_fifo_errors", "rx_frame_errors", "rx_length_errors", "rx_missed_errors", "rx_nohandler", "rx_over_errors",
                "rx_packets", "tx_aborted_errors", "tx_bytes", "tx_carrier_errors", "tx_compressed", "tx_dropped", "tx_errors",
                "tx_fifo_errors", "tx_heartbeat_errors", "tx_packets", "tx_window_errors"), stats);
        for (String name : stats.split("\n")) {
            assertEquals("0\n", shell.cat("/sys/class/net/veth0/statistics/" + name), name);
        }
        assertEquals(lines("/sys/class/net/veth0/mtu"), shell.ls("/sys/class/net/veth0/mtu"), "a file: its name");
        assertEquals("cat: /sys/class/net/veth0: Is a directory", shell.catFails("/sys/class/net/veth0").getMessage());
    }

    /** napi_defer_hard_irqs and gro_flush_timeout: 0 by default, set by a write as Linux's sysfs takes it ({@code echo N | tee FILE}). */
    @Test
    void napiDeferHardIrqsAndGroFlushTimeoutAreWrittenWithTee() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        assertEquals("0\n", shell.cat("/sys/class/net/veth0/napi_defer_hard_irqs"));
        assertEquals("0\n", shell.cat("/sys/class/net/veth0/gro_flush_timeout"));
        assertEquals("2\n", shell.tee("2\n", "/sys/class/net/veth0/napi_defer_hard_irqs"), "tee copies its input");
        shell.tee("200000\n", "/sys/class/net/veth0/gro_flush_timeout");
        assertEquals("2\n", shell.cat("/sys/class/net/veth0/napi_defer_hard_irqs"));
        assertEquals("200000\n", shell.cat("/sys/class/net/veth0/gro_flush_timeout"));
        assertEquals("0\n", shell.cat("/sys/class/net/veth1/napi_defer_hard_irqs"), "per device");
        assertEquals("tee: /sys/class/net/veth0/napi_defer_hard_irqs: Numerical result out of range",
                shell.teeFails("2147483648\n", "/sys/class/net/veth0/napi_defer_hard_irqs").getMessage());
        assertEquals("tee: /sys/class/net/veth0/gro_flush_timeout: Invalid argument",
                shell.teeFails("-1\n", "/sys/class/net/veth0/gro_flush_timeout").getMessage());
        assertEquals("tee: /sys/class/net/veth0/mtu: Permission denied", shell.teeFails("9000\n", "/sys/class/net/veth0/mtu").getMessage());
        assertEquals("tee: /sys/class/net/nope/gro_flush_timeout: No such file or directory",
                shell.teeFails("1\n", "/sys/class/net/nope/gro_flush_timeout").getMessage());
        assertEquals("2\n", shell.cat("/sys/class/net/veth0/napi_defer_hard_irqs"), "a refused write changes nothing");
    }

    /** tee writes the host's files elsewhere (appended with -a), as GNU tee, and modnet's sysctls under /proc/sys. */
    @Test
    void teeCopiesToHostFilesAndAppendsWithAAndWritesSysctls(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path f = dir.resolve("out");
        assertEquals("x\ny\n", shell.tee("x\ny\n", f.toString()));
        assertEquals("x\ny\n", java.nio.file.Files.readString(f));
        shell.tee("z\n", "-a " + f);
        assertEquals("x\ny\nz\n", java.nio.file.Files.readString(f));
        shell.tee("1\n", "/proc/sys/net/ipv4/ip_forward");
        assertEquals("1\n", shell.cat("/proc/sys/net/ipv4/ip_forward"));
        assertEquals("tee: /proc/sys/net/nope: No such file or directory", shell.teeFails("1\n", "/proc/sys/net/nope").getMessage());
    }

    @Test
    void lsOfProcListsModnetsFilesAndSysctls() {
        shell.procFiles.put("/proc/net/snmp", List.of("Ip: ..."));
        shell.procFiles.put("/proc/net/stat/arp_cache", List.of("entries"));
        shell.procFiles.put("/sys/kernel/tracing/trace", List.of("# tracer: nop"));
        assertEquals(lines("interrupts", "net", "sys"), shell.ls("/proc"));
        assertEquals(lines("dev", "snmp", "softnet_stat", "stat"), shell.ls("/proc/net"));
        assertEquals(lines("arp_cache"), shell.ls("/proc/net/stat"));
        assertEquals(lines("class", "kernel"), shell.ls("/sys"));
        assertEquals(lines("net"), shell.ls("/proc/sys"));
        String core = shell.ls("/proc/sys/net/core");
        assertTrue(core.contains("dev_weight\n"), core);
        assertEquals(lines("/proc/sys/net/core/dev_weight"), shell.ls("/proc/sys/net/core/dev_weight"));
        assertEquals("# tracer: nop\n", shell.cat("/sys/kernel/tracing/trace"), "files other layers keep under /sys still read");
    }

    @Test
    void lsOfSeveralPathsHasHeadersAndMissingOnesAreGnusWords() {
        FakeCore.vethPair(shell.init(), "veth0", "veth1");
        CommandException e = shell.lsFails("/sys/class/net/nope /sys/class /sys/class/net/veth0/mtu");
        assertEquals(2, e.status());
        assertEquals("ls: cannot access '/sys/class/net/nope': No such file or directory\n", shell.err());
        assertEquals(lines("/sys/class/net/veth0/mtu", "", "/sys/class:", "net"), shell.out());
        CommandException bad = shell.lsFails("-l /sys");
        assertEquals("ls: invalid option -- 'l'\nTry 'ls --help' for more information.", bad.getMessage());
        assertEquals(2, bad.status());
    }

    @Test
    void otherPathsAreTheHostsFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("b"), "");
        java.nio.file.Files.createDirectory(dir.resolve("a"));
        java.nio.file.Files.writeString(dir.resolve(".hidden"), "");
        assertEquals(lines("a", "b"), shell.ls(dir.toString()));
    }

    @Test
    void procInterruptsHasALinePerDeviceQueueWithItsCountOnItsCpu() {
        shell.core.softnet.addAll(List.of(new org.modnet.api.net.SoftnetStat(0, 0, 0, 0, 0), new org.modnet.api.net.SoftnetStat(1, 0, 0, 0, 0)));
        FakeDevice[] veth = FakeCore.vethPair(shell.init(), "veth0", "veth1");
        veth[0].rxQueues = 2;
        veth[0].ethtoolStats.put("rx_queue_0_irqs", 1234L);
        veth[0].ethtoolStats.put("rx_queue_1_irqs", 56L);
        veth[1].ethtoolStats.put("rx_queue_0_irqs", 7L);
        assertEquals(lines(
                "           CPU0       CPU1",
                " 24:       1234          0  modnet-napi  veth0-rx-0",
                " 25:          0         56  modnet-napi  veth0-rx-1",
                " 26:          7          0  modnet-napi  veth1-rx-0"),
                shell.cat("/proc/interrupts"));
        assertEquals(lines(" 24:       1234          0  modnet-napi  veth0-rx-0"), pick(shell.cat("/proc/interrupts"), "veth0-rx-0"));
    }

    private static String pick(String text, String word) {
        StringBuilder b = new StringBuilder();
        for (String l : text.split("\n")) {
            if (l.contains(word)) {
                b.append(l).append('\n');
            }
        }
        return b.toString();
    }
}
