package org.modnet.sched;

import java.util.List;

import org.modnet.api.shell.CommandException;

/** A cursor over a filter's or an action's words, as iproute2's {@code NEXT_ARG()}/{@code PREV_ARG()} walk {@code argv}. */
final class TcFilterArgs {
    private final List<String> words;
    private int i;

    TcFilterArgs(List<String> words) {
        this.words = words;
    }

    boolean more() {
        return i < words.size();
    }

    String peek() {
        return i < words.size() ? words.get(i) : null;
    }

    String next() {
        return words.get(i++);
    }

    /** The value after a keyword; tc's "Command line is not complete" if there is none. */
    String value() {
        if (i >= words.size()) {
            throw new CommandException("Command line is not complete. Try option \"help\"", 1);
        }
        return words.get(i++);
    }

    /** {@code PREV_ARG()}: gives the last word back. */
    void back() {
        i--;
    }
}
