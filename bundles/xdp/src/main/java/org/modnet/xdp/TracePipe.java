package org.modnet.xdp;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The tracing ring buffer that {@code bpf_trace_printk} writes to, one per modnet instance as ftrace's
 * is one per kernel: {@code cat /sys/kernel/tracing/trace} shows the lines it holds, and
 * {@code bpftool prog tracelog} (the trace pipe) takes them as they come, leaving the buffer without
 * them. It holds at most {@link #CAPACITY} lines; a line written to a full buffer overwrites the
 * oldest, as ftrace's overwrite mode does, and the header's written count still counts it.
 */
@Component(service = { TracePipe.class, ProcFile.class }, immediate = true, property = {
        ProcFile.PATH + "=/sys/kernel/tracing/trace", ProcFile.PATH + "=/sys/kernel/debug/tracing/trace" })
public final class TracePipe implements ProcFile {
    static final int CAPACITY = 16384;

    private final int capacity;
    private final int cpus;
    /** The CPU whose softirq the calling thread runs, or -1 ({@link NetCore#currentCpu}). */
    private final java.util.function.IntSupplier currentCpu;
    private final ArrayDeque<String> lines = new ArrayDeque<>();
    private long written;

    @Activate
    public TracePipe(@Reference NetCore core) {
        this(CAPACITY, core.cpus(), core::currentCpu);
    }

    TracePipe(int capacity, int cpus, java.util.function.IntSupplier currentCpu) {
        this.capacity = capacity;
        this.cpus = cpus;
        this.currentCpu = currentCpu;
    }

    /**
     * A {@code bpf_trace_printk} line, as ftrace prints it: the task ({@link #comm}) and its id, the CPU (the one
     * whose softirq the thread runs, as {@code bpf_get_smp_processor_id} gives it; 0 for a shell's
     * test run), flags for softirq context, the
     * monotonic time in seconds (the clock of {@code bpf_ktime_get_ns}), and the message.
     */
    public void printk(String message) {
        Thread t = Thread.currentThread();
        String name = comm(t.getName());
        long now = System.nanoTime();
        String line = String.format("%16s-%-7d [%03d] ..s1. %6d.%06d: bpf_trace_printk: %s", name, t.threadId(), cpu(),
                TimeUnit.NANOSECONDS.toSeconds(now), TimeUnit.NANOSECONDS.toMicros(now) % 1_000_000, message);
        synchronized (this) {
            if (lines.size() == capacity) {
                lines.removeFirst();
            }
            lines.addLast(line);
            written++;
            notifyAll();
        }
    }

    /**
     * The task as ftrace names it, by its command ({@code comm}, at most 15 characters): a Gogo pipe
     * thread ({@code pipe-ping -c 2 10.0.0.2}) by its command's name, others by the thread's name.
     */
    static String comm(String thread) {
        String name = thread.startsWith("pipe-") ? thread.substring("pipe-".length()).split(" ", 2)[0] : thread.replace(' ', '_');
        return name.length() > 15 ? name.substring(0, 15) : name;
    }

    /** The CPU whose softirq the thread runs; 0 for another thread (a shell's test run). */
    private int cpu() {
        return Math.max(0, currentCpu.getAsInt());
    }

    /** {@code /sys/kernel/tracing/trace}: ftrace's header, then the lines the buffer holds, oldest first. */
    @Override
    public synchronized List<String> read(NetNamespace ns) {
        List<String> out = new ArrayList<>();
        out.add("# tracer: nop");
        out.add("#");
        out.add("# entries-in-buffer/entries-written: " + lines.size() + "/" + written + "   #P:" + cpus);
        out.add("#");
        out.add("#                                _-----=> irqs-off/BH-disabled");
        out.add("#                               / _----=> need-resched");
        out.add("#                              | / _---=> hardirq/softirq");
        out.add("#                              || / _--=> preempt-depth");
        out.add("#                              ||| / _-=> migrate-disable");
        out.add("#                              |||| /     delay");
        out.add("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION");
        out.add("#              | |         |   |||||     |         |");
        out.addAll(lines);
        return out;
    }

    /** The trace pipe: the oldest line, taken from the buffer, waiting up to {@code millis} for one; null if none came. */
    public synchronized String take(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (lines.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return lines.removeFirst();
    }
}
