import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'app-home',
  imports: [RouterLink],
  template: `<h1 id="home">Home</h1>
    <a id="to-account" routerLink="/account">Account</a>`,
})
export class Home {}
