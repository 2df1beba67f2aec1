package org.modnet.ebpf.impl;

import java.util.List;

import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.Helpers;

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
        return Jit.compile(p, helpers, List.of(), null);
    }

    /** The engine of that name ({@link #NAMES}). */
    public static Executable byName(String name, Program p, Helpers helpers) throws BpfException {
        return byName(name, p, helpers, List.of(), null);
    }

    /**
     * The engine of that name for a loaded program whose map references index {@code maps}: the JIT
     * calls a map's own lookup, update and delete where it knows the map, as the kernel's fixups do,
     * and reaches the context, the packet and map values directly where the verifier found an access
     * goes there ({@code bases}, from {@link Verifier#check}; null when unknown).
     */
    static Executable byName(String name, Program p, Helpers helpers, List<BpfMapBase> maps, int[] bases) throws BpfException {
        return byName(name, p, helpers, maps, bases, false);
    }

    /**
     * {@link #byName}; {@code packetArgs}: an XDP program no call of which moves the packet (the verifier's
     * {@link Verifier.Checked#movesPacket}), whose JIT'ed entry may take data and data_end from its caller.
     */
    static Executable byName(String name, Program p, Helpers helpers, List<BpfMapBase> maps, int[] bases, boolean packetArgs)
            throws BpfException {
        return switch (name) {
            case "interpreter" -> interpreter(p, helpers);
            case "jit" -> Jit.compile(p, helpers, maps, bases, packetArgs);
            default -> throw new BpfException("no engine named " + name);
        };
    }
}
