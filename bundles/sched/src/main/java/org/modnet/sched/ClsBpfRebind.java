package org.modnet.sched;

import org.modnet.ebpf.api.BpfAdoption;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfRebind;
import org.modnet.ebpf.api.BpfSyscall;
import org.osgi.service.component.annotations.Component;

/**
 * tc's bpf classifiers across an update of the ebpf bundle: each filter running a program of the old
 * implementation moves to the adopted program of the same id, as XDP's hooks do, so it runs the new
 * version's code on the maps it had (whose storage the new implementation took over). A program the new
 * verifier refused stays on the old code until the filter is deleted (tc's filters belong to the user:
 * this does not delete one). No reference to the eBPF service, so this is there whichever version comes.
 * Delayed: made only when the xdp bundle asks for it, so a router without eBPF never loads it.
 */
@Component(service = BpfRebind.class)
public final class ClsBpfRebind implements BpfRebind {
    @Override
    public int rebind(BpfSyscall old, BpfSyscall next, BpfAdoption adoption) {
        int moved = 0;
        for (ClsBpf f : ClsBpf.LIVE) {
            BpfProg p = f.prog();
            // the adoption keeps each program's id: a filter on that id runs the old version's program
            // (the old implementation's own list cannot tell: both versions list programs by id)
            BpfProg adopted = adoption.prog(p.id());
            if (adopted == null || adopted == p) {
                continue; // refused by the new verifier (XdpDetach logs and counts it), or moved already
            }
            f.rebind(adopted.hold());
            moved++;
        }
        return moved;
    }
}
