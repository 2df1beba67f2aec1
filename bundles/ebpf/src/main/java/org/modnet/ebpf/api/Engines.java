package org.modnet.ebpf.api;

import java.util.List;

/** The engines that run a checked program: the interpreter, and the JIT to JVM bytecode. */
public final class Engines {
    /** The engines' names, as {@code --interpret} and {@code --jit} choose them. */
    public static final List<String> NAMES = List.of("interpreter", "jit");

    private Engines() {
    }

    public static Executable interpreter(Program p, Helpers helpers) {
        return new Interpreter(p, helpers);
    }

    /** The program compiled to JVM bytecode; throws when the JIT cannot take it (then interpret it). */
    public static Executable jit(Program p, Helpers helpers) throws BpfException {
        return Jit.compile(p, helpers);
    }

    /** The engine of that name ({@link #NAMES}). */
    public static Executable byName(String name, Program p, Helpers helpers) throws BpfException {
        return switch (name) {
            case "interpreter" -> interpreter(p, helpers);
            case "jit" -> jit(p, helpers);
            default -> throw new BpfException("no engine named " + name);
        };
    }
}
