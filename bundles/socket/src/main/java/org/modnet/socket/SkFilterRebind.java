package org.modnet.socket;

import org.modnet.ebpf.api.BpfAdoption;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfRebind;
import org.modnet.ebpf.api.BpfSyscall;
import org.osgi.service.component.annotations.Component;

/**
 * Socket filters across an update of the ebpf bundle: each attached filter running a program of the
 * old implementation moves to the adopted program of the same id, as tc's classifiers and XDP's hooks
 * do, so the socket filters with the new version's code. A program the new verifier refused stays on
 * the old code until the filter is detached or its socket closes. No reference to the eBPF service.
 */
@Component(service = BpfRebind.class)
public final class SkFilterRebind implements BpfRebind {
    @Override
    public int rebind(BpfSyscall old, BpfSyscall next, BpfAdoption adoption) {
        int moved = 0;
        for (SkFilters.Run f : java.util.List.copyOf(SkFilters.Run.LIVE)) {
            BpfProg p = f.prog();
            BpfProg adopted = adoption.prog(p.id());
            if (adopted == null || adopted == p) {
                continue; // refused by the new verifier, or moved already
            }
            f.rebind(adopted.hold());
            moved++;
        }
        return moved;
    }
}
