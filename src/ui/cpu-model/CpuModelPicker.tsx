/**
 * The CPU generation (the CLI's `--cpu-model`, session config `cpuModel`, links `&cpu=p4`): which
 * cost-model preset prices the trap log's records (src/hypervisor/vmm/cost-model.ts), and what the
 * guest's RDTSC reads — modelled cycles instead of the instruction count. Every technique has it:
 * native hardware events are priced too. It sits by the speed picker: both are about time (virtual
 * time stays the instruction count; this prices what the instructions and the VMM cost).
 */
import { CPU_MODEL_PRESETS, CPU_MODELS, type CpuModelId } from '../../hypervisor/vmm/cost-model.ts';
import { changeScenario } from '../scenario.ts';
import { useUi } from '../store.ts';
import './cpu-model.css';

const DEFAULT_TITLE =
  'No CPU generation: the guest’s TSC counts instructions and the trap log is priced with the Pentium 4 tables. Choose one to make RDTSC read modelled cycles.';

/** Short enough for the run-controls row at 1280 wide; the title names the part and its year. */
const SHORT: Record<CpuModelId, string> = { p4: 'Pentium 4', nehalem: 'Nehalem', modern: 'Modern' };

export function cpuModelTitle(id: CpuModelId | undefined): string {
  if (!id) return DEFAULT_TITLE;
  const p = CPU_MODEL_PRESETS[id];
  return `${p.label}: ${p.part}. VM exit + entry ${p.vmExit.toLocaleString('en-US')} cycles; the guest’s TSC reads modelled cycles.`;
}

export function CpuModelPicker() {
  const scenario = useUi((s) => s.scenario);
  const classroom = useUi((s) => s.classroom);
  // Classroom type leaves no room on the run-controls row at 1280: the picker shows there only once
  // a generation is chosen (a lesson's preset or a link's &cpu=), to say which one runs.
  if (classroom && !scenario.cpuModel) return null;
  const value = scenario.cpuModel ?? '';
  return (
    <label className="field cpu-model-field">
      <span className="field-label">CPU</span>
      <select
        data-testid="cpu-model-select"
        value={value}
        title={cpuModelTitle(scenario.cpuModel)}
        onChange={(e) => {
          const v = e.target.value;
          const { cpuModel: _old, ...rest } = scenario;
          changeScenario(v ? { ...rest, cpuModel: v as CpuModelId } : rest);
        }}
      >
        <option value="" title={DEFAULT_TITLE}>
          Instr. count
        </option>
        {CPU_MODELS.map((m) => (
          <option key={m} value={m} title={cpuModelTitle(m)}>
            {SHORT[m]}
          </option>
        ))}
      </select>
    </label>
  );
}
