package org.modnet.itests;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The JVM's collector pauses while a test runs, each with its collector, cause, start and length, from the
 * {@link GarbageCollectorMXBean}s' notifications (the platform MBeans' open data: no {@code com.sun.management} class in
 * the test's bundle). A notification's start and end are whole milliseconds from the end of the JVM's initialisation
 * (HotSpot's management time stamp), not from the origin of {@code RuntimeMXBean.getUptime} (its start, 59-78 ms earlier
 * on this machine): that instant is read from the JVM's own performance counters ({@code sun.rt.vmInitDoneTime} in
 * {@code /tmp/hsperfdata_USER/PID}, wall-clock ms) and set against {@link System#nanoTime} once at {@link #start}, so a
 * pause's place is good to a millisecond or two. Without the file (-XX:-UsePerfData) the uptime's origin stands in and
 * {@link #say} says the places are early. The beans of concurrent work are left out (ZGC's "Cycles" beans: its pauses
 * have beans of their own); G1's "G1 Concurrent GC" bean counts the Remark and Cleanup pauses.
 */
final class GcPauses implements NotificationListener {
    /** One pause: the bean's name, the cause, start and end in {@code System.nanoTime} (to a ms), its length in ms. */
    record Pause(String collector, String cause, long startNanos, long endNanos, long ms) {
    }

    private final List<Pause> pauses = new ArrayList<>();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    /** {@code System.nanoTime} at the end of the JVM's initialisation, where the notifications' times count from (to a ms). */
    private final long base;
    /** The base is the uptime's origin (no performance counters): every place up to ~80 ms early. */
    private final boolean early;

    private GcPauses() {
        long initDone = initDoneMillis();
        long nanos = System.nanoTime();
        long wall = System.currentTimeMillis();
        early = initDone <= 0;
        base = early ? nanos - ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L : nanos - (wall - initDone) * 1_000_000L;
    }

    /**
     * {@code sun.rt.vmInitDoneTime} (wall-clock ms) from this JVM's performance-counter file, HotSpot's layout: a prologue
     * (magic 0xcafec0c0, byte order, ..., the entries' offset and count at 24 and 28) and entries (length, name offset,
     * vector length, type, flags, units, variability, data offset; the name and the data within). 0 if not there.
     */
    static long initDoneMillis() {
        java.nio.file.Path f = java.nio.file.Path.of("/tmp", "hsperfdata_" + System.getProperty("user.name"), Long.toString(ProcessHandle.current().pid()));
        try {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(f));
            if (b.getInt(0) != 0xcafec0c0) {
                return 0;
            }
            b.order(b.get(4) == 1 ? java.nio.ByteOrder.LITTLE_ENDIAN : java.nio.ByteOrder.BIG_ENDIAN);
            int at = b.getInt(24);
            int n = b.getInt(28);
            for (int i = 0; i < n && at > 0 && at < b.limit(); i++) {
                int length = b.getInt(at);
                int name = at + b.getInt(at + 4);
                int end = name;
                while (end < b.limit() && b.get(end) != 0) {
                    end++;
                }
                String key = new String(b.array(), name, end - name, java.nio.charset.StandardCharsets.US_ASCII);
                if (key.equals("sun.rt.vmInitDoneTime") && b.getInt(at + 8) == 0 && b.get(at + 12) == 'J') {
                    return b.getLong(at + b.getInt(at + 16));
                }
                if (length <= 0) {
                    return 0;
                }
                at += length;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // no counters: the uptime's origin stands in
        }
        return 0;
    }

    /** Listens from now until {@link #stop}. */
    static GcPauses start() {
        GcPauses p = new GcPauses();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter e && !gc.getName().contains("Cycles")) {
                e.addNotificationListener(p, null, null);
                p.emitters.add(e);
            }
        }
        return p;
    }

    void stop() {
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(this);
            } catch (javax.management.ListenerNotFoundException gone) {
                // not there: nothing to remove
            }
        }
    }

    @Override
    public void handleNotification(Notification n, Object handback) {
        if (!"com.sun.management.gc.notification".equals(n.getType()) || !(n.getUserData() instanceof CompositeData d)) {
            return;
        }
        CompositeData info = (CompositeData) d.get("gcInfo");
        long start = (Long) info.get("startTime");
        long end = (Long) info.get("endTime");
        synchronized (pauses) {
            pauses.add(new Pause((String) d.get("gcName"), (String) d.get("gcCause"), base + start * 1_000_000L, base + end * 1_000_000L,
                    (Long) info.get("duration")));
        }
    }

    /** The pauses that overlap {@code from}..{@code to} ({@code System.nanoTime}), in order. */
    List<Pause> between(long from, long to) {
        synchronized (pauses) {
            return pauses.stream().filter(p -> p.endNanos() >= from && p.startNanos() <= to).toList();
        }
    }

    /**
     * "N GC pauses, T ms (max M ms): collector (cause) at S ms for D ms; ..." for {@code from}..{@code to}, each pause's start
     * in ms from {@code from}.
     */
    String say(long from, long to) {
        List<Pause> in = between(from, to);
        long total = in.stream().mapToLong(Pause::ms).sum();
        long max = in.stream().mapToLong(Pause::ms).max().orElse(0);
        StringBuilder b = new StringBuilder(String.format("%d GC pauses, %d ms (max %d ms)%s", in.size(), total, max,
                early ? " (placed from the JVM's start, not its initialisation's end: up to ~80 ms early)" : ""));
        String sep = ": ";
        for (Pause p : in) {
            b.append(String.format("%s%s (%s) at %.0f ms for %d ms", sep, p.collector(), p.cause(), (p.startNanos() - from) / 1e6, p.ms()));
            sep = "; ";
        }
        return b.toString();
    }
}
