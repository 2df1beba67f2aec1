package org.modnet.api.net;

/**
 * A registered sysctl holding several integers, as {@code net.ipv4.ip_local_port_range} ("32768\t60999")
 * and {@code net.ipv4.udp_mem} do. Readers get the whole vector in one volatile read.
 */
public interface IntVectorSysctl {
    String name();

    /** The current values; the array is shared and must not be changed. */
    int[] get();

    /** Sets every value; EINVAL for the wrong count, a value out of range, or a range whose ends are reversed. */
    void set(int... values) throws NetException;
}
