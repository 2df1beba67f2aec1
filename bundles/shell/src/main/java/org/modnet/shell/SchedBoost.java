package org.modnet.shell;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The calling thread's scheduling raised for a short critical section and put back afterwards, as Linux's
 * {@code stop_machine} runs its stopper threads above everything else for the few microseconds they hold the
 * machine: {@code sched_setattr(2)} on the thread's own tid with {@code SCHED_FLAG_RESET_ON_FORK}, so a thread it
 * starts meanwhile runs at the normal priority. Either nice -20 ({@code SCHED_OTHER}: a weight 88 times a nice-0
 * thread's, so the section is not queued behind the packet threads, which still run) or {@code SCHED_FIFO} priority
 * 1 (above every normal thread until it blocks or ends). Needs {@code CAP_SYS_NICE} (root): without it, or on a
 * system without the call, {@link #raise} leaves the thread as it was and says why. {@link #close} restores what
 * {@code sched_getattr} read before, on every path ({@code try}-with-resources).
 */
final class SchedBoost implements AutoCloseable {
    /** {@code nice}: nice -20; {@code fifo}: SCHED_FIFO 1. */
    enum Policy { NICE, FIFO }

    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;
    private static final long SCHED_FLAG_RESET_ON_FORK = 0x01;
    /** {@code struct sched_attr} as {@code SCHED_ATTR_SIZE_VER0}: size, policy, flags, nice, priority, runtime, deadline, period. */
    private static final StructLayout ATTR = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("size"),
            ValueLayout.JAVA_INT.withName("policy"), ValueLayout.JAVA_LONG.withName("flags"), ValueLayout.JAVA_INT.withName("nice"),
            ValueLayout.JAVA_INT.withName("priority"), ValueLayout.JAVA_LONG.withName("runtime"),
            ValueLayout.JAVA_LONG.withName("deadline"), ValueLayout.JAVA_LONG.withName("period"));
    private static final VarHandle SIZE = field("size");
    private static final VarHandle POLICY = field("policy");
    private static final VarHandle FLAGS = field("flags");
    private static final VarHandle NICE = field("nice");
    private static final VarHandle PRIORITY = field("priority");

    /** The syscall numbers of this machine: gettid, sched_setattr, sched_getattr; null where unknown. */
    private static final long[] NR = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> new long[] { 186, 314, 315 };
        case "aarch64" -> new long[] { 178, 274, 275 };
        default -> null;
    };

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** {@code long syscall(long nr, ...)} with four long-sized arguments and errno captured; null off Linux. */
    private static final MethodHandle SYSCALL = syscall();

    private final MemorySegment saved;
    private final Arena arena;
    private final String said;
    private final int tid;
    private boolean closed;

    private SchedBoost(Arena arena, MemorySegment saved, int tid, String said) {
        this.arena = arena;
        this.saved = saved;
        this.tid = tid;
        this.said = said;
    }

    /** Raises the calling thread; a boost that did not happen (no privilege, no call) restores nothing and says why. Never throws. */
    static SchedBoost raise(Policy policy) {
        return raise(policy, SCHED_FLAG_RESET_ON_FORK);
    }

    /**
     * Raises the calling thread without {@code SCHED_FLAG_RESET_ON_FORK}: every thread it starts until {@link #close} is born
     * raised too (Gogo's job and pipe threads for the line it dispatches, {@code UpdateDispatch}). Never throws.
     */
    static SchedBoost raiseInherited(Policy policy) {
        return raise(policy, 0L);
    }

    private static SchedBoost raise(Policy policy, long flags) {
        if (SYSCALL == null || NR == null) {
            return new SchedBoost(null, null, 0, "not raised: no sched_setattr here");
        }
        Arena arena = Arena.ofConfined();
        String why;
        try {
            MemorySegment errno = arena.allocate(CAPTURE);
            int tid = (int) call(errno, NR[0], 0, MemorySegment.NULL, 0, 0);
            MemorySegment saved = arena.allocate(ATTR);
            if (call(errno, NR[2], tid, saved, ATTR.byteSize(), 0) != 0) {
                why = "not raised: sched_getattr failed, errno " + (int) ERRNO.get(errno, 0L);
            } else {
                if (call(errno, NR[1], tid, attr(arena, policy, flags), 0, 0) == 0) {
                    return new SchedBoost(arena, saved, tid, policy == Policy.FIFO ? "SCHED_FIFO 1" : "nice -20");
                }
                int e = (int) ERRNO.get(errno, 0L);
                why = "not raised: sched_setattr refused it (errno " + e + (e == 1 ? ", EPERM: no CAP_SYS_NICE" : "") + ")";
            }
        } catch (Throwable t) {
            why = "not raised: " + t;
        }
        arena.close();
        return new SchedBoost(null, null, 0, why);
    }

    /**
     * Puts the calling thread at nice 0 (SCHED_OTHER), whatever it was born with: an update's thread whose urgent part is over
     * and whose rest must not run above the packet threads. Whether it did; never throws.
     */
    static boolean normal() {
        return normal(0);
    }

    /** {@link #normal()} for the thread {@code tid} of this process (0: the calling thread). */
    static boolean normal(int tid) {
        if (SYSCALL == null || NR == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(CAPTURE);
            int t = tid != 0 ? tid : (int) call(errno, NR[0], 0, MemorySegment.NULL, 0, 0);
            return call(errno, NR[1], t, attr(arena, null, SCHED_FLAG_RESET_ON_FORK), 0, 0) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The calling thread's Linux tid; 0 if unknown. */
    static int tid() {
        if (SYSCALL == null || NR == null) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            return (int) call(arena.allocate(CAPTURE), NR[0], 0, MemorySegment.NULL, 0, 0);
        } catch (Throwable t) {
            return 0;
        }
    }

    /**
     * A {@code struct sched_attr} for {@code sched_setattr}: SCHED_FIFO 1 ({@code FIFO}), nice -20 ({@code NICE}) or nice 0
     * (null, SCHED_OTHER), with {@code flags}. The arena's memory comes zeroed: runtime, deadline and period stay 0.
     */
    private static MemorySegment attr(Arena arena, Policy policy, long flags) {
        MemorySegment a = arena.allocate(ATTR);
        SIZE.set(a, 0L, (int) ATTR.byteSize());
        FLAGS.set(a, 0L, flags);
        if (policy == Policy.FIFO) {
            POLICY.set(a, 0L, SCHED_FIFO);
            PRIORITY.set(a, 0L, 1);
        } else {
            POLICY.set(a, 0L, SCHED_OTHER);
            NICE.set(a, 0L, policy == Policy.NICE ? -20 : 0);
        }
        return a;
    }

    /** What {@link #raise} did, for the command's line. */
    String said() {
        return said;
    }

    boolean raised() {
        return saved != null;
    }

    /** Whether the thread already ran raised before {@link #raise} (nice below 0, or not SCHED_OTHER): it was born so. */
    boolean wasRaised() {
        return saved != null && ((int) POLICY.get(saved, 0L) != SCHED_OTHER || (int) NICE.get(saved, 0L) < 0);
    }

    /**
     * Starts {@code t} born at this thread's raised scheduling: {@code SCHED_FLAG_RESET_ON_FORK} is cleared for the start and
     * set again after it (on the thread that raised itself, while raised). A thread born at nice 0 under load waits for a core
     * before it can raise itself (with two raised threads on two cores it got none), and {@code Thread.start} itself waits for
     * the new thread to come up. Not raised, or closed: a plain start.
     */
    void startRaised(Thread t) {
        if (saved == null || closed) {
            t.start();
            return;
        }
        boolean cleared = ownFlags(0L);
        try {
            t.start();
        } finally {
            if (cleared) {
                ownFlags(SCHED_FLAG_RESET_ON_FORK);
            }
        }
    }

    /** Sets this thread's scheduling flags, its policy and priority as they are; whether it did. */
    private boolean ownFlags(long flags) {
        try {
            MemorySegment errno = arena.allocate(CAPTURE);
            MemorySegment a = arena.allocate(ATTR);
            if (call(errno, NR[2], tid, a, ATTR.byteSize(), 0) != 0) {
                return false;
            }
            SIZE.set(a, 0L, (int) ATTR.byteSize());
            FLAGS.set(a, 0L, flags);
            return call(errno, NR[1], tid, a, 0, 0) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** Puts back the scheduling {@link #raise} read (on the same thread). */
    @Override
    public void close() {
        if (saved == null || closed) {
            return;
        }
        closed = true;
        try {
            MemorySegment errno = arena.allocate(CAPTURE);
            SIZE.set(saved, 0L, (int) ATTR.byteSize());
            call(errno, NR[1], tid, saved, 0, 0);
        } catch (Throwable t) {
            // the thread keeps the boost: it is the update's own thread, which ends with the update
        } finally {
            arena.close();
        }
    }

    /** The current scheduling of a thread: "nice N" or "SCHED_FIFO N" (the tests' check that close restored it). */
    static String current() {
        if (SYSCALL == null || NR == null) {
            return "unknown";
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(CAPTURE);
            int tid = (int) call(errno, NR[0], 0, MemorySegment.NULL, 0, 0);
            MemorySegment a = arena.allocate(ATTR);
            if (call(errno, NR[2], tid, a, ATTR.byteSize(), 0) != 0) {
                return "unknown";
            }
            int policy = (int) POLICY.get(a, 0L);
            return policy == SCHED_OTHER ? "nice " + (int) NICE.get(a, 0L)
                    : (policy == SCHED_FIFO ? "SCHED_FIFO " : "policy " + policy + " ") + (int) PRIORITY.get(a, 0L);
        } catch (Throwable t) {
            return "unknown";
        }
    }

    private static long call(MemorySegment errno, long nr, long a, MemorySegment b, long c, long d) throws Throwable {
        return (long) SYSCALL.invokeExact(errno, nr, a, b, c, d);
    }

    private static VarHandle field(String name) {
        return ATTR.varHandle(MemoryLayout.PathElement.groupElement(name));
    }

    private static MethodHandle syscall() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("syscall").map(s -> linker.downcallHandle(s,
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"))).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null; // no native access granted, or no libc: the update runs unboosted
        }
    }
}
