import { describe, expect, it } from 'vitest';
import { defaultTransformerConfig, resolveTransformerConfig } from '../../../models/transformer/config.js';

describe('resolveTransformerConfig', () => {
  it('fills the defaults', () => {
    expect(resolveTransformerConfig({})).toEqual(defaultTransformerConfig);
  });

  it.each([
    [{ readoutResidual: 'yes' }, 'readoutResidual', /true or false/],
    [{ cosineTemperature: 20 }, 'cosineTemperature', /0 \(off\) or in \(0, 10\]/],
    [{ readout: 'mean' }, 'readout', /readout must be one of/],
    [{ heads: 3 }, 'heads', /must divide hiddenSize/],
    [{ readoutResidual: true, readout: 'last' }, 'readoutResidual', /needs readout/],
    [{ repeatBias: true, loss: 'bpr-max' }, 'repeatBias', /cross-entropy/],
    [{ transitionPrior: 1 }, 'transitionPrior', /true or false/],
    [{ transitionPriorFromEpoch: 0 }, 'transitionPriorFromEpoch', /integer ≥ 1/],
    [{ transitionPrior: true, loss: 'bpr-max' }, 'transitionPrior', /cross-entropy/],
  ])('rejects %o with an InvalidOptionError naming the field', (partial, field, message) => {
    expect(() => resolveTransformerConfig(partial as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: field, message: expect.stringMatching(message) }));
  });
});
