package org.modnet.packetdrill;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A system call line (parser.y {@code syscall_spec}):
 * {@code connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)}. {@code result} is the
 * expected return value; {@code errno} the expected errno name when one is written, {@code strerror}
 * the words in parentheses after it (ignored by packetdrill), {@code note} a further parenthesised
 * note. {@code blockingEndUsecs} is E of {@code T...E name(...)}: the call blocks and must return at E
 * (from the same base as T when T is relative).
 */
public record SystemCall(String name, List<Expression> arguments, Expression result, Optional<String> errno,
        Optional<String> strerror, Optional<String> note, OptionalLong blockingEndUsecs) implements Action {

    public SystemCall {
        arguments = List.copyOf(arguments);
    }

    public boolean blocking() {
        return blockingEndUsecs.isPresent();
    }
}
