package org.modnet.drivers.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.capture.file.PcapReader;
import org.modnet.capture.file.PcapWriter;
import org.modnet.core.StandaloneCore;

/** The pcap driver: a replay file's frames received by the device, what it sends recorded, bad files refused. */
class PcapDriverTest {
    @TempDir
    Path dir;
    private StandaloneCore stack;
    private NetNamespace ns;
    private final List<Integer> delivered = new ArrayList<>();

    @BeforeEach
    void setUp() {
        stack = StandaloneCore.manual(1, 4096, System::nanoTime);
        stack.addHandler(0x88b5, (skb, d) -> { // IEEE local experimental ethertype: the test's frames
            delivered.add(skb.len());
            skb.free();
        });
        ns = stack.core().initNet();
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    /** A capture of {@code n} broadcast frames of the local experimental ethertype, 60 + i bytes each, 1 ms apart. */
    private Path capture(int n) throws Exception {
        Path f = dir.resolve("in.pcap");
        try (OutputStream out = Files.newOutputStream(f); PcapWriter w = new PcapWriter(out, 65535)) {
            for (int i = 0; i < n; i++) {
                byte[] frame = new byte[60 + i];
                java.util.Arrays.fill(frame, 0, 6, (byte) 0xff);
                frame[6] = 2;
                frame[12] = (byte) 0x88;
                frame[13] = (byte) 0xb5;
                w.write(1_700_000_000_000_000_000L + i * 1_000_000L, frame, frame.length);
            }
        }
        return f;
    }

    /** Runs the softirq until the replay has delivered {@code n} frames or a few seconds pass. */
    private void awaitDelivered(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (delivered.size() < n && System.nanoTime() < deadline) {
            stack.run();
            Thread.sleep(1);
        }
        stack.run();
    }

    @Test
    void aReplayFileIsReceivedAtItsPaceOrTopSpeedAndLoops() throws Exception {
        Path in = capture(20);
        NetDevice paced = new PcapDriver().create(ns, "p0", List.of("replay", in.toString()));
        long start = System.nanoTime();
        paced.open();
        awaitDelivered(20);
        assertTrue(System.nanoTime() - start >= 15_000_000L, "19 ms of capture took at least 15 ms to replay");
        assertEquals(20, delivered.size());
        assertEquals(60 - Eth.ETH_HLEN, delivered.get(0));
        assertEquals(20L, paced.stats().get(DeviceStats.Field.RX_PACKETS));
        assertEquals(20L, paced.ethtoolStats().get("replayed"));

        delivered.clear();
        NetDevice fast = new PcapDriver().create(ns, "p1", List.of("replay", in.toString(), "topspeed", "loop", "3"));
        fast.open();
        awaitDelivered(60);
        assertEquals(60, delivered.size(), "three times over");
        assertEquals(3L, fast.ethtoolStats().get("replay_loops"));
        fast.close();
        paced.delete();
        fast.delete();
    }

    @Test
    void whatTheDeviceSendsIsRecorded() throws Exception {
        Path out = dir.resolve("out.pcap");
        NetDevice p = new PcapDriver().create(ns, "rec0", List.of("record", out.toString()));
        p.open();
        for (int i = 0; i < 3; i++) {
            SkBuff skb = stack.core().allocSkb(64 + i, 64);
            byte[] frame = new byte[64 + i];
            frame[0] = (byte) i;
            skb.setBytes(skb.put(frame.length), frame, 0, frame.length);
            skb.dev(p);
            stack.core().devQueueXmit(skb);
        }
        p.close(); // down: the record file is flushed
        try (PcapReader r = new PcapReader(new BufferedInputStream(Files.newInputStream(out)))) {
            for (int i = 0; i < 3; i++) {
                PcapReader.Record rec = r.next();
                assertEquals(64 + i, rec.bytes().length);
                assertEquals(i, rec.bytes()[0]);
            }
            assertNull(r.next());
        }
        assertEquals(3L, p.stats().get(DeviceStats.Field.TX_PACKETS));
        assertEquals(3L, p.ethtoolStats().get("recorded"));
        p.delete();
        assertEquals(0, stack.core().pool().inUse());
    }

    @Test
    void badFilesAndArgumentsRefuseTheDevice() throws Exception {
        PcapDriver d = new PcapDriver();
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> d.create(ns, "x", List.of("replay", "/nonexistent.pcap"))).errno());
        Path junk = dir.resolve("junk.pcap");
        Files.write(junk, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25 });
        NetException bad = assertThrows(NetException.class, () -> d.create(ns, "x", List.of("replay", junk.toString())));
        assertTrue(bad.getMessage().contains("not a pcap or pcapng file"), bad.getMessage());
        assertThrows(NetException.class, () -> d.create(ns, "x", List.of("record", dir.resolve("no/such/dir.pcap").toString())));
        assertThrows(NetException.class, () -> d.create(ns, "x", List.of("loop", "-1")));
        assertThrows(NetException.class, () -> d.create(ns, "x", List.of("replay")));
        assertThrows(NetException.class, () -> d.create(ns, "x", List.of("bogus")));
        assertNull(ns.device("x"), "nothing was made");
    }

    @Test
    void stoppingTheDriverTakesItsDevicesAndStopsTheirReplays() throws Exception {
        PcapDriver d = new PcapDriver();
        NetDevice p = d.create(ns, "gone0", List.of("replay", capture(5).toString(), "topspeed", "loop", "0"));
        p.open();
        awaitDelivered(5);
        d.deactivate();
        assertNull(ns.device("gone0"), "unregistered with its driver");
        Thread.sleep(50);
        stack.run();
        int after = delivered.size();
        Thread.sleep(100);
        stack.run();
        assertEquals(after, delivered.size(), "the endless replay stopped");
    }
}
