package org.modnet.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The trace buffer: ftrace's line format and header, overwrite when full, and the pipe that takes lines. */
class TracePipeTest {

    private static List<String> entries(TracePipe trace) {
        return trace.read(null).stream().filter(l -> !l.startsWith("#")).toList();
    }

    @Test
    void aSoftirqThreadsLineReadsAsFtracePrintsIt() throws Exception {
        TracePipe trace = new TracePipe(8, 2, () -> 1); // the thread runs CPU 1's softirq, as ksoftirqd/1 does
        Thread t = Thread.ofPlatform().name("ksoftirqd/1").start(() -> trace.printk("frame 1"));
        t.join();
        List<String> all = trace.read(null);
        assertEquals("# tracer: nop", all.get(0));
        assertTrue(all.contains("# entries-in-buffer/entries-written: 1/1   #P:2"), all.toString());
        String line = entries(trace).get(0);
        assertTrue(line.matches(" *ksoftirqd/1-" + t.threadId() + " +\\[001\\] \\.\\.s1\\. +\\d+\\.\\d{6}: bpf_trace_printk: frame 1"), line);
    }

    /**
     * A thread running a CPU's softirq round (a test's, in manual mode) writes that CPU, as the
     * program's processor id says, whatever the thread's name; a thread outside softirq writes 0.
     */
    @Test
    void theCpuIsTheOneWhoseSoftirqTheThreadRuns() {
        TracePipe trace = new TracePipe(8, 2, () -> 1);
        trace.printk("frame 1");
        assertTrue(entries(trace).get(0).contains(" [001] ..s1. "), entries(trace).get(0));
        TracePipe outside = new TracePipe(8, 2, () -> -1);
        outside.printk("frame 2");
        assertTrue(entries(outside).get(0).contains(" [000] ..s1. "), "a thread outside any softirq: " + entries(outside).get(0));
    }

    @Test
    void theTaskIsNamedByItsCommandInAtMostFifteenCharacters() {
        assertEquals("ping", TracePipe.comm("pipe-ping -c 2 -i 0.2 10.0.0.2"));
        assertEquals("ksoftirqd/0", TracePipe.comm("ksoftirqd/0"));
        assertEquals("a_very_long_thr", TracePipe.comm("a very long thread name"));
    }

    @Test
    void aFullBufferOverwritesItsOldestLinesAndCountsEveryLineWritten() {
        TracePipe trace = new TracePipe(3, 1, () -> -1);
        for (int i = 1; i <= 5; i++) {
            trace.printk("frame " + i);
        }
        List<String> lines = entries(trace);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).endsWith("frame 3") && lines.get(2).endsWith("frame 5"), lines.toString());
        assertTrue(trace.read(null).contains("# entries-in-buffer/entries-written: 3/5   #P:1"));
    }

    @Test
    void thePipeTakesLinesOldestFirstAndWaitsForTheNext() throws Exception {
        TracePipe trace = new TracePipe(8, 1, () -> -1);
        trace.printk("a");
        trace.printk("b");
        assertTrue(trace.take(0).endsWith(": a"));
        assertEquals(1, entries(trace).size(), "a line the pipe took is no longer in the buffer");
        assertTrue(trace.take(0).endsWith(": b"));
        assertNull(trace.take(10), "nothing written: the wait ends empty");

        AtomicReference<String> got = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                got.set(trace.take(10_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread.sleep(50);
        trace.printk("c");
        reader.join(10_000);
        assertTrue(got.get() != null && got.get().endsWith(": c"), String.valueOf(got.get()));
    }
}
