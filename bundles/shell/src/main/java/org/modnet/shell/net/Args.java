package org.modnet.shell.net;

import java.util.List;
import java.util.function.Supplier;

import org.modnet.api.shell.CommandException;

/** A cursor over a command's words, as the C tools walk {@code argv}. */
final class Args {
    private final List<String> words;
    private int next;

    Args(List<String> words) {
        this.words = List.copyOf(words);
    }

    boolean more() {
        return next < words.size();
    }

    String peek() {
        return words.get(next);
    }

    String next() {
        return words.get(next++);
    }

    /** The value after a keyword; the tool's "incomplete command" error if there is none. */
    String value(Supplier<CommandException> missing) {
        if (!more()) {
            throw missing.get();
        }
        return next();
    }

    /** The words not read yet. */
    List<String> rest() {
        return words.subList(next, words.size());
    }

    void skipAll() {
        next = words.size();
    }
}
