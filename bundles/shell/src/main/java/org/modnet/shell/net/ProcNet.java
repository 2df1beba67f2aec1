package org.modnet.shell.net;

import static org.modnet.api.net.DeviceStats.Field.*;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.SoftnetStat;

/** The text of {@code /proc/net/dev} and {@code /proc/net/softnet_stat}, as {@code net/core/net-procfs.c} prints it. */
final class ProcNet {
    static final String DEV_HEADER = "Inter-|   Receive                            "
            + "                    |  Transmit\n"
            + " face |bytes    packets errs drop fifo frame "
            + "compressed multicast|bytes    packets errs "
            + "drop fifo colls carrier compressed";

    private ProcNet() {
    }

    /** {@code dev_seq_show}: the two header lines, then one line per device of the namespace. */
    static List<String> dev(List<NetDevice> devices) {
        List<String> lines = new ArrayList<>(List.of(DEV_HEADER.split("\n")));
        for (NetDevice d : devices) {
            lines.add(devLine(d.name(), d.stats()));
        }
        return lines;
    }

    /** {@code dev_seq_printf_stats}: the kernel folds several counters into each column. */
    static String devLine(String name, DeviceStats s) {
        return String.format("%6s: %7s %7s %4s %4s %4s %5s %10s %9s %8s %7s %4s %4s %4s %5s %7s %10s", name,
                u(s.get(RX_BYTES)), u(s.get(RX_PACKETS)), u(s.get(RX_ERRORS)),
                u(s.get(RX_DROPPED) + s.get(RX_MISSED_ERRORS)), u(s.get(RX_FIFO_ERRORS)),
                u(s.get(RX_LENGTH_ERRORS) + s.get(RX_OVER_ERRORS) + s.get(RX_CRC_ERRORS) + s.get(RX_FRAME_ERRORS)),
                u(s.get(RX_COMPRESSED)), u(s.get(MULTICAST)),
                u(s.get(TX_BYTES)), u(s.get(TX_PACKETS)), u(s.get(TX_ERRORS)), u(s.get(TX_DROPPED)),
                u(s.get(TX_FIFO_ERRORS)), u(s.get(COLLISIONS)),
                u(s.get(TX_CARRIER_ERRORS) + s.get(TX_ABORTED_ERRORS) + s.get(TX_WINDOW_ERRORS)
                        + s.get(TX_HEARTBEAT_ERRORS)),
                u(s.get(TX_COMPRESSED)));
    }

    private static String u(long v) {
        return Long.toUnsignedString(v);
    }

    /**
     * {@code softnet_seq_show} (Linux 5.10+): processed, dropped, time_squeeze, five retired zeros,
     * cpu_collision (0), received_rps, flow_limit_count, backlog length and the CPU, each {@code %08x}
     * of 32 bits. modnet has no RPS, flow limit or per-CPU backlog, so those are 0.
     */
    static String softnetLine(SoftnetStat s) {
        return String.format("%08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x",
                (int) s.processed(), (int) s.dropped(), (int) s.timeSqueeze(), 0, 0, 0, 0, 0, 0, 0, 0, 0, s.cpu());
    }

    /**
     * {@code /proc/interrupts} as {@code show_interrupts} lays it out: {@code CPUn} columns, then a line
     * per interrupt, its number right-aligned, its count on each CPU ({@code %10u}), the chip and the
     * handler's name. modnet's interrupts are each device queue's NAPI schedules (ethtool's
     * {@code rx_queue_N_irqs}), all taken on the CPU that polls the queue; the numbers count from 24
     * as the first MSI vectors often do, the chip is {@code modnet-napi} and the name {@code DEV-rx-N},
     * as multi-queue NICs name theirs. The file is global: every namespace's devices.
     */
    static List<String> interrupts(int cpus, List<NetDevice> devices) {
        cpus = Math.max(1, cpus);
        StringBuilder header = new StringBuilder(" ".repeat(3 + 8));
        for (int c = 0; c < cpus; c++) {
            header.append(String.format("CPU%-8d", c));
        }
        List<String> lines = new ArrayList<>();
        lines.add(header.toString().stripTrailing());
        int irq = 24;
        for (NetDevice d : devices) {
            java.util.Map<String, Long> stats = d.ethtoolStats();
            for (int q = 0; q < d.rxQueues(); q++) {
                Long count = stats.get("rx_queue_" + q + "_irqs");
                if (count == null) {
                    continue; // a device without NAPI queues (lo in the core's view) takes no interrupts
                }
                org.modnet.api.net.RxQueue queue = d.rxQueue(q);
                int cpu = (queue == null ? q : queue.cpu()) % cpus;
                StringBuilder b = new StringBuilder(String.format("%3d: ", irq++));
                for (int c = 0; c < cpus; c++) {
                    b.append(String.format("%10s ", Long.toUnsignedString(c == cpu ? count : 0)));
                }
                b.append(String.format(" %11s  %s-rx-%d", "modnet-napi", d.name(), q));
                lines.add(b.toString());
            }
        }
        return lines;
    }
}
