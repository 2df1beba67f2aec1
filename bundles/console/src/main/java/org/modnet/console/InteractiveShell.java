package org.modnet.console;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeSet;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The interactive Gogo shell on the launcher's terminal: JLine line editing, history in
 * {@code ~/.modnet_history}, completion of command names. {@code exit} or Ctrl-D leaves it.
 */
final class InteractiveShell {
    private final CommandProcessor processor;
    private final String prompt;
    private volatile Terminal terminal;
    private final Object waking = new Object();
    private boolean finished; // guarded by waking

    InteractiveShell(CommandProcessor processor, String instance) {
        this.processor = processor;
        this.prompt = Options.DEFAULT_NAME.equals(instance) ? "modnet> " : "modnet[" + instance + "]> ";
    }

    /** Runs until the user leaves or {@code stop} says so; returns the last command's status. */
    int run(java.util.function.BooleanSupplier stop) throws IOException {
        try (Terminal terminal = systemTerminal()) {
            this.terminal = terminal;
            Quiet written = new Quiet();
            PrintStream out = new PrintStream(written.watch(terminal.output()), true);
            CommandSession session = processor.createSession(terminal.input(), out, out);
            Executor executor = new Executor(session, out, out);
            LineReader reader = LineReaderBuilder.builder()
                    .terminal(terminal)
                    .appName("modnet")
                    .completer(commandNames(session))
                    .variable(LineReader.HISTORY_FILE, Paths.get(System.getProperty("user.home"), ".modnet_history"))
                    .build();
            out.println("modnet " + Version.of(InteractiveShell.class) + " - type 'help' for the commands, 'exit' to leave");
            int status = 0;
            while (!stop.getAsBoolean()) {
                String line;
                try {
                    line = reader.readLine(prompt);
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    break;
                }
                String trimmed = line.strip();
                if (trimmed.equals("exit") || trimmed.equals("quit")) {
                    break;
                }
                if (!trimmed.isEmpty()) {
                    status = executeInterruptibly(terminal, executor, trimmed, written);
                }
            }
            finish();
            executor.close();
            return status;
        } finally {
            finish();
        }
    }

    /**
     * Runs a command line the way a shell runs a foreground job: Ctrl-C (INT on the terminal, which
     * JLine catches outside {@code readLine} too) interrupts the job's threads, so {@code nc -l},
     * {@code bpftool prog tracelog} and the like end, and the shell takes the next line.
     */
    private static int executeInterruptibly(Terminal terminal, Executor executor, String line, Quiet written) {
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> {
            written.interrupted();
            executor.interrupt();
        });
        try {
            return executor.execute(line);
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            written.afterCommand();
        }
    }

    /**
     * No interrupt reaches this thread after this: JLine's handler interrupts the reading thread, and
     * one raised as {@code readLine} returned would leave the interrupt status set, which would
     * end the launcher's wait for the framework with an {@code InterruptedException}.
     */
    private void finish() {
        synchronized (waking) {
            finished = true;
        }
        Thread.interrupted();
    }

    /**
     * Wakes a shell that waits for a line, so it sees that it should stop ({@code shutdown} from an
     * attached session): an interrupt on the terminal ends {@code readLine}, as Ctrl-C does. JLine
     * handles the interrupt only inside {@code readLine}; one raised between the shell's check of
     * {@code stop} and {@code readLine} would be lost, so the interrupt is repeated until the shell
     * has returned.
     */
    void wake() {
        Thread.ofPlatform().daemon().name("modnet-shell-wake").start(() -> {
            try {
                while (true) {
                    synchronized (waking) {
                        if (finished) {
                            return;
                        }
                        Terminal t = terminal;
                        if (t != null) {
                            t.raise(Terminal.Signal.INT);
                        }
                    }
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * JLine finds its terminal providers (ffm, jni, exec) through the thread's context class loader,
     * which on the launcher's main thread cannot see inside the JLine bundle: lend it JLine's own.
     */
    private static Terminal systemTerminal() throws IOException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(TerminalBuilder.class.getClassLoader());
        try {
            return TerminalBuilder.builder().name("modnet").system(true).build();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static Completer commandNames(CommandSession session) {
        return (reader, line, candidates) -> {
            if (line.wordIndex() != 0) {
                return;
            }
            Set<String> names = new TreeSet<>();
            Object commands = session.get(".commands");
            if (commands instanceof Iterable<?> all) {
                for (Object c : all) {
                    String name = String.valueOf(c);
                    names.add(name.substring(name.indexOf(':') + 1));
                    names.add(name);
                }
            }
            for (String n : names) {
                candidates.add(new Candidate(n));
            }
        };
    }

}
