package org.modnet.shell.net;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Function;
import org.apache.felix.service.command.Job;
import org.apache.felix.service.command.JobListener;
import org.modnet.api.shell.Commands;

/** A Gogo session that keeps variables and records the lines it is asked to execute. */
final class FakeSession implements CommandSession {
    /** What a line executed sees: the line, and the namespace the session was in. */
    record Executed(String line, Object netns) {
    }

    /** Runs a line; the tests' stand-in for Gogo's parser and the commands behind it. */
    @FunctionalInterface
    interface Runner {
        Object run(String line) throws Exception;
    }

    final Map<String, Object> variables = new HashMap<>();
    final List<Executed> executed = new ArrayList<>();
    Runner runner = line -> null;

    @Override
    public Object execute(CharSequence line) throws Exception {
        executed.add(new Executed(line.toString(), variables.get(Commands.NETNS)));
        return runner.run(line.toString());
    }

    /**
     * A variable, or, for a name without a dot that no variable holds, the command of that name as Gogo's
     * {@code get} resolves it: a function that records its words as one line and the namespace it acts in
     * (what {@code ip netns exec} gave its thread, else the session's), then hands the line to the runner.
     */
    @Override
    public Object get(String name) {
        if (variables.containsKey(name) || name.contains(".")) {
            return variables.get(name);
        }
        return (Function) (session, args) -> {
            StringBuilder line = new StringBuilder(name.startsWith("*:") ? name.substring(2) : name);
            for (Object a : args) {
                line.append(' ').append(a);
            }
            executed.add(new Executed(line.toString(), Commands.netns(variables.get(Commands.NETNS))));
            return runner.run(line.toString());
        };
    }

    @Override
    public Object put(String name, Object value) {
        return value == null ? variables.remove(name) : variables.put(name, value);
    }

    @Override
    public CharSequence format(Object target, int level) {
        return String.valueOf(target);
    }

    @Override
    public Object convert(Class<?> type, Object instance) {
        return instance;
    }

    @Override
    public Path currentDir() {
        return null;
    }

    @Override
    public void currentDir(Path path) {
    }

    @Override
    public ClassLoader classLoader() {
        return null;
    }

    @Override
    public void classLoader(ClassLoader classLoader) {
    }

    @Override
    public void close() {
    }

    @Override
    public InputStream getKeyboard() {
        return InputStream.nullInputStream();
    }

    @Override
    public PrintStream getConsole() {
        return System.out;
    }

    @Override
    public List<Job> jobs() {
        return List.of();
    }

    @Override
    public Job foregroundJob() {
        return null;
    }

    @Override
    public void setJobListener(JobListener listener) {
    }
}
