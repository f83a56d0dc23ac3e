import { describe, expect, it } from 'vitest';
import { configurationKeyProblem, isSecurityConfigurationKey, parseVariableKey, variableKey } from './configuration.js';

describe('OCPP 2.0.1 configuration keys', () => {
  it('reads Component.Variable, each with an optional [instance]', () => {
    expect(parseVariableKey('OCPPCommCtrlr.HeartbeatInterval')).toEqual({ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } });
    expect(parseVariableKey('SmartChargingCtrlr.Entries[ChargingProfiles]'))
      .toEqual({ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'Entries', instance: 'ChargingProfiles' } });
    expect(parseVariableKey('OCPPCommCtrlr[1].MessageTimeout[Default]'))
      .toEqual({ component: { name: 'OCPPCommCtrlr', instance: '1' }, variable: { name: 'MessageTimeout', instance: 'Default' } });
    expect(variableKey(parseVariableKey('A[b].C[d]'))).toBe('A[b].C[d]');
  });

  it('refuses anything else with a message that says how to write it', () => {
    expect(() => parseVariableKey('HeartbeatInterval')).toThrow('"HeartbeatInterval" is not an OCPP 2.0.1 key: write Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval');
    expect(() => parseVariableKey('A.B.C')).toThrow('has more than one dot');
    expect(() => parseVariableKey('.Variable')).toThrow('the component name "" must be 1–50 letters');
    expect(() => parseVariableKey('A[x.B')).toThrow('"A[x.B" has an unclosed [ or a stray ]');
    expect(() => parseVariableKey('A].B')).toThrow('has an unclosed [ or a stray ]');
    expect(() => parseVariableKey('A[x]z.B')).toThrow('the component "A[x]z" is not Name or Name[instance]');
    expect(() => parseVariableKey('A[].B')).toThrow('the component instance "" must be');
    expect(() => parseVariableKey(`${'C'.repeat(51)}.V`)).toThrow('the component name');
    expect(() => parseVariableKey('A.B[x]y')).toThrow('the variable "B[x]y" is not Name or Name[instance]');
    expect(() => parseVariableKey('A B.C')).toThrow('must be 1–50 letters');
  });

  it('checks a key for what the charger speaks: any well-formed dotted key, and only such keys for 2.0.1', () => {
    expect(configurationKeyProblem('HeartbeatInterval')).toBeNull();
    expect(configurationKeyProblem('HeartbeatInterval', 'ocpp1.6')).toBeNull();
    expect(configurationKeyProblem('HeartbeatInterval', 'ocpp2.0.1')).toContain('is not an OCPP 2.0.1 key');
    expect(configurationKeyProblem('OCPPCommCtrlr.HeartbeatInterval', 'ocpp2.0.1')).toBeNull();
    expect(configurationKeyProblem('OCPPCommCtrlr..HeartbeatInterval')).toContain('more than one dot');
  });

  it('knows security settings in both ways of writing them', () => {
    expect(isSecurityConfigurationKey('AuthorizeRemoteTxRequests')).toBe(true);
    expect(isSecurityConfigurationKey('SecurityCtrlr.SecurityProfile')).toBe(true);
    expect(isSecurityConfigurationKey('AuthCtrlr.AuthorizeRemoteStart')).toBe(true);
    expect(isSecurityConfigurationKey('Vendor.ApiToken')).toBe(true);
    expect(isSecurityConfigurationKey('OCPPCommCtrlr.HeartbeatInterval')).toBe(false);
    expect(isSecurityConfigurationKey('HeartbeatInterval')).toBe(false);
  });
});
