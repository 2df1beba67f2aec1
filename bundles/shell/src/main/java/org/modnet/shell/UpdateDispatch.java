package org.modnet.shell;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Gogo's dispatch of an {@code update} line raised with the command: the thread that calls {@code execute} for a line whose first
 * word is {@code update} is raised (nice -20, or SCHED_FIFO 1 as {@code modnet.update.priority.policy} says) without
 * {@code SCHED_FLAG_RESET_ON_FORK} until the line returns, so the threads Gogo starts for it (the session's job thread, then the
 * pipe thread that parses the statement, finds the command by reflection and calls it) are born raised. At nice 0 they waited for
 * a core behind the packet threads before the command's first line could raise its own: 7.7-47 ms between the caller's clock
 * and the command's under 1,000 streams for ~1.5 ms of the pipe thread's CPU (task upd15f). The command puts them back to nice 0
 * when the update is over ({@link #settle}); the caller gets back what it had. Off with {@code modnet.update.priority=off|swap}
 * (the command is not raised either) or {@code modnet.update.dispatch=false} (the benchmark's comparison only). Any other line is
 * left as it is: raising every session would run every command above the packet threads.
 */
@Component(service = CommandSessionListener.class, immediate = true)
public final class UpdateDispatch implements CommandSessionListener {
    /** The raise of this calling thread for the line it runs, null when it did not raise. */
    private static final ThreadLocal<SchedBoost> RAISED = new ThreadLocal<>();

    private final SchedBoost.Policy policy;

    @Activate
    public UpdateDispatch(BundleContext context) {
        String priority = context.getProperty("modnet.update.priority");
        boolean on = !"off".equals(priority) && !"swap".equals(priority) && !"false".equals(context.getProperty("modnet.update.dispatch"));
        this(!on ? null
                : "fifo".equals(context.getProperty("modnet.update.priority.policy")) ? SchedBoost.Policy.FIFO : SchedBoost.Policy.NICE);
    }

    /** The dispatch raised at {@code policy}; null: never. */
    UpdateDispatch(SchedBoost.Policy policy) {
        this.policy = policy;
    }

    @Override
    public void beforeExecute(CommandSession session, CharSequence line) {
        if (policy == null || RAISED.get() != null || !isUpdate(line)) {
            return; // a nested execute of a raised line is raised already
        }
        SchedBoost b = SchedBoost.raiseInherited(policy);
        if (b.raised()) {
            RAISED.set(b);
        }
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence line, Exception exception) {
        restore();
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence line, Object result) {
        restore();
    }

    private static void restore() {
        SchedBoost b = RAISED.get();
        if (b != null) {
            RAISED.remove();
            b.close();
        }
    }

    /** Whether the line's first word is {@code update} or {@code modnet:update} (the module command, not Felix's {@code felix:update}). */
    static boolean isUpdate(CharSequence line) {
        int n = line.length();
        int i = 0;
        while (i < n && Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        int start = i;
        while (i < n && !Character.isWhitespace(line.charAt(i)) && line.charAt(i) != ';' && line.charAt(i) != '|') {
            i++;
        }
        String word = line.subSequence(start, i).toString();
        return word.equals("update") || word.equals("modnet:update");
    }

    /**
     * After an update whose command thread was born raised by its dispatch: that thread and the others of its Gogo session's pool
     * (the job thread that started it; their native names are the Java name's first 15 characters, {@code session-N-thread-M}
     * shortened) go back to nice 0, where Gogo's later lines on them belong. The caller's own thread is put back by
     * {@link #afterExecute}. Reads {@code /proc/self/task}: once, when the update is over.
     */
    static void settle() {
        SchedBoost.normal(); // first: the walk below, a few ms of CPU, runs beside the new version's pass, not above it
        String name = Thread.currentThread().getName();
        int thread = name.lastIndexOf("-thread-");
        if (thread < 0) {
            return; // not a Gogo pool thread: this one only
        }
        String pool = name.substring(0, thread + "-thread-".length());
        String comm = pool.length() > 15 ? pool.substring(0, 15) : pool;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Paths.get("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    if (Files.readString(task.resolve("comm")).startsWith(comm) && raised(task)) {
                        SchedBoost.normal(Integer.parseInt(task.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException e) {
                    // a thread that ended meanwhile
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            // no /proc: the job thread stays raised, parked in the pool until its next line or its end
        }
    }

    /** Whether the task runs above nice 0: {@code /proc/PID/task/TID/stat}'s nice (field 19) below 0, or a real-time priority. */
    private static boolean raised(Path task) throws IOException {
        String stat = Files.readString(task.resolve("stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after the name: state(3) ppid ... priority(18) nice(19); index = field - 3
        return Integer.parseInt(f[19 - 3]) < 0 || Integer.parseInt(f[18 - 3]) < 0;
    }
}
