package org.modnet.sched;

import java.util.List;

import org.modnet.api.shell.CommandException;

/** A cursor over a qdisc's words, as iproute2's {@code NEXT_ARG()} walks {@code argv}. */
final class Args {
    private final List<String> words;
    private final String usage;
    private int i;

    Args(List<String> words, String usage) {
        this.words = words;
        this.usage = usage;
    }

    boolean more() {
        return i < words.size();
    }

    boolean peekIs(String word) {
        return i < words.size() && words.get(i).equals(word);
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

    /** The next word if it reads as a number ({@code NEXT_IS_NUMBER}), else null (nothing consumed). */
    String optionalNumber() {
        if (i < words.size() && !words.get(i).isEmpty()
                && (Character.isDigit(words.get(i).charAt(0)) || words.get(i).charAt(0) == '.')) {
            return words.get(i++);
        }
        return null;
    }

    /** iproute2's answer to a word a qdisc does not know: {@code What is "X"?} and the usage. */
    CommandException unknown(String word) {
        return new CommandException("What is \"" + word + "\"?\n" + usage, 1);
    }

    CommandException usage(String message) {
        return new CommandException(message + "\n" + usage, 1);
    }
}
