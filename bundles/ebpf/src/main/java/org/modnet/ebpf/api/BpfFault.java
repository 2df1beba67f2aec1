package org.modnet.ebpf.api;

/**
 * A program touched memory it was not given, called a helper that does not exist, or a helper found
 * its arguments outside the program's memory: the run stops here (XDP turns it into XDP_ABORTED, as
 * the kernel's exception path does). Verified programs do not fault; helpers may throw it.
 */
public class BpfFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BpfFault(String message) {
        super(message, null, false, false); // no stack trace: a fault is a result, on the packet path
    }
}
