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
 * the test's bundle). Their times are the JVM's uptime in whole milliseconds, set against {@link System#nanoTime} once at
 * {@link #start}: a pause's place is good to a millisecond. The beans of concurrent work are left out (ZGC's "Cycles"
 * beans: its pauses have beans of their own); G1's "G1 Concurrent GC" bean counts the Remark and Cleanup pauses.
 */
final class GcPauses implements NotificationListener {
    /** One pause: the bean's name, the cause, start and end in {@code System.nanoTime} (to a ms), its length in ms. */
    record Pause(String collector, String cause, long startNanos, long endNanos, long ms) {
    }

    private final List<Pause> pauses = new ArrayList<>();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    /** {@code System.nanoTime} at the JVM's start, as the uptime says it (to a ms). */
    private final long base;

    private GcPauses() {
        base = System.nanoTime() - ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L;
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
        StringBuilder b = new StringBuilder(String.format("%d GC pauses, %d ms (max %d ms)", in.size(), total, max));
        String sep = ": ";
        for (Pause p : in) {
            b.append(String.format("%s%s (%s) at %.0f ms for %d ms", sep, p.collector(), p.cause(), (p.startNanos() - from) / 1e6, p.ms()));
            sep = "; ";
        }
        return b.toString();
    }
}
