// Grafana's published dashboard and panel types (@grafana/schema, the version compose runs), made to
// accept JSON: a string enum member is written in JSON as its value, so every enum becomes the union of its
// values (`${E}`); everything else keeps its shape, optionality and excess-property checks.
import type { Dashboard, Panel, RowPanel } from '@grafana/schema';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type * as PieChart from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

export type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

// Saved dashboards may leave out any option: Grafana fills in the plugin's defaults.
type DeepPartial<T> = T extends ReadonlyArray<infer U>
  ? Array<DeepPartial<U>>
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

type PanelOf<Type extends string, Options, Custom> = Omit<Json<Panel>, 'type' | 'options' | 'fieldConfig'> & {
  type: Type;
  options?: DeepPartial<Json<Options>>;
  fieldConfig: Omit<Json<NonNullable<Panel['fieldConfig']>>, 'defaults'> & {
    defaults: Omit<Json<NonNullable<Panel['fieldConfig']>['defaults']>, 'custom'> & { custom?: DeepPartial<Json<Custom>> };
  };
};

export type KnownPanel =
  | PanelOf<'bargauge', BarGauge.Options, never>
  | PanelOf<'gauge', Gauge.Options, never>
  | PanelOf<'piechart', PieChart.Options, PieChart.FieldConfig>
  | PanelOf<'stat', Stat.Options, never>
  | PanelOf<'table', Table.Options, Table.FieldConfig>
  | PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>;

export type DashboardJson = Omit<Json<Dashboard>, 'panels'> & { panels: Array<KnownPanel | Json<RowPanel>> };
