package org.modnet.ebpf.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A user of eBPF programs that moves to the next implementation's programs on an update of the ebpf
 * bundle, registered as a service (a whiteboard). Exactly one party adopts the old implementation's
 * {@link BpfHandOver} (the xdp bundle, which holds both versions' services and outlives the update);
 * after {@link BpfSyscall#adopt} and before it lets go of the adopter's one reference to each adopted
 * program, it calls every registered user, so each takes its own references ({@link BpfProg#hold()})
 * to the programs it runs and closes its references to the old ones. A program no user holds is then
 * unloaded, as in Linux when its last file descriptor or link goes.
 * @since 2.2
 */
@ConsumerType
public interface BpfRebind {
    /**
     * Moves every program of {@code old} this user runs to {@code adoption}'s program of the same id
     * (the old one keeps running until the new one replaces it); a program the adoption lacks (the new
     * verifier refused it) comes off, as the user would take it off when its loader goes.
     *
     * @return how many programs moved
     */
    int rebind(BpfSyscall old, BpfSyscall next, BpfAdoption adoption);
}
