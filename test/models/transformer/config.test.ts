import { describe, expect, it } from 'vitest';
import { defaultTransformerConfig, resolveTransformerConfig } from '../../../models/transformer/config.js';

describe('resolveTransformerConfig', () => {
  it('fills the defaults', () => {
    expect(resolveTransformerConfig({})).toEqual(defaultTransformerConfig);
  });

  it.each([
    [{ readout: 'query-attention' }, 'readout', /readout must be one of/],
    [{ cosineTemperature: 20 }, 'cosineTemperature', /0 \(off\) or in \(0, 10\]/],
    [{ readout: 'mean' }, 'readout', /readout must be one of/],
    [{ heads: 3 }, 'heads', /must divide hiddenSize/],
    [{ sessionMap: true }, 'sessionMap', /unknown transformer parameter/],
    [{ tiedEmbedding: false }, 'tiedEmbedding', /unknown transformer parameter/],
    [{ repeatBias: true, loss: 'bpr-max' }, 'repeatBias', /cross-entropy/],
    [{ transitionPrior: 1 }, 'transitionPrior', /true or false/],
    [{ transitionPrior: true, loss: 'bpr-max' }, 'transitionPrior', /cross-entropy/],
  ])('rejects %o with an InvalidOptionError naming the field', (partial, field, message) => {
    expect(() => resolveTransformerConfig(partial as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: field, message: expect.stringMatching(message) }));
  });
});
